using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace NeuralDescent.Benchmarks;

/// <summary>Marks a benchmark class whose cases know their floating-point operation count.</summary>
public interface IFlopCounted
{
    /// <summary>FLOP done by one invocation of <paramref name="method"/> with the current parameters.</summary>
    double FlopPerInvocation(string method);
}

/// <summary>A summary column: GFLOP/s = FLOP per invocation / median time, for classes that implement <see cref="IFlopCounted"/>.</summary>
public sealed class GflopsColumn : IColumn
{
    public string Id => nameof(GflopsColumn);
    public string ColumnName => "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Billions of floating-point operations per second (2 per multiply-add), from the median time";

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        BenchmarkReport? report = summary[benchmarkCase];
        if (report?.ResultStatistics is null) return "-";
        // Recreate the parameter values on a fresh instance to ask it for the FLOP count.
        if (Activator.CreateInstance(benchmarkCase.Descriptor.Type) is not IFlopCounted counted) return "-";
        foreach (var parameter in benchmarkCase.Parameters.Items)
            benchmarkCase.Descriptor.Type.GetProperty(parameter.Name)?.SetValue(counted, parameter.Value);
        double flop = counted.FlopPerInvocation(benchmarkCase.Descriptor.WorkloadMethod.Name);
        return flop <= 0 ? "-" : (flop / report.ResultStatistics.Median).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
    }

    public override string ToString() => ColumnName;
}

/// <summary>The configuration of the suites that report GFLOP/s: BenchmarkDotNet's defaults plus <see cref="GflopsColumn"/>.</summary>
public sealed class GflopsConfig : BenchmarkDotNet.Configs.ManualConfig
{
    /// <summary>Adds the GFLOP/s column.</summary>
    public GflopsConfig() => AddColumn(new GflopsColumn());
}
