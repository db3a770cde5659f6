using NeuralDescent;
using System.Globalization;
using NeuralDescent.Data;
using NeuralDescent.Metrics;
using NeuralDescent.Training;
using Spectre.Console;

namespace MnistSample;

/// <summary>Console output of the sample: a progress bar per epoch, the history table and the confusion matrix.</summary>
internal static class ConsoleReport
{
    public static TrainingHistory TrainWithProgress(Trainer trainer, Network network, DataSplit data, CancellationToken cancellationToken)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            // Redirected output (CI, a log file): a plain line at every quarter of an epoch instead of a live bar.
            return trainer.Fit(network, data, new Reporter(p =>
            {
                if (p.CompletedEpoch is EpochSummary e)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {e.Epoch}/{p.Epochs}: loss {e.TrainingLoss:F4}, train {e.TrainingAccuracy:P2}, test {e.TestAccuracy:P2}, {e.Duration.TotalSeconds:F2} s"));
                else if (p.Batch % Math.Max(1, p.Batches / 4) == 0 && p.Batch < p.Batches)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {p.Epoch}/{p.Epochs}: {100.0 * p.Batch / p.Batches:F0}% loss {p.Loss:F4}"));
            }), cancellationToken);
        }

        TrainingHistory? history = null;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                ProgressTask? task = null;
                history = trainer.Fit(network, data, new Reporter(p =>
                {
                    task ??= ctx.AddTask($"Epoch {p.Epoch}/{p.Epochs}", maxValue: p.Batches);
                    if (p.CompletedEpoch is EpochSummary e)
                    {
                        task.Value = task.MaxValue;
                        task.Description = string.Create(CultureInfo.InvariantCulture, $"Epoch {e.Epoch}/{p.Epochs}  loss {e.TrainingLoss:F4}  test {e.TestAccuracy:P2}");
                        task.StopTask();
                        task = null;
                    }
                    else
                    {
                        task.Value = p.Batch;
                        if (p.Batch % 50 == 0) task.Description = string.Create(CultureInfo.InvariantCulture, $"Epoch {p.Epoch}/{p.Epochs}  loss {p.Loss:F4}");
                    }
                }), cancellationToken);
            });
        return history!;
    }

    public static void PrintHistory(TrainingHistory history)
    {
        var table = new Table().Title("Training history").AddColumns("Epoch", "Train loss", "Train acc.", "Test loss", "Test acc.", "Seconds");
        foreach (EpochSummary e in history.Epochs)
        {
            table.AddRow(
                e.Epoch.ToString(CultureInfo.InvariantCulture),
                e.TrainingLoss.ToString("F4", CultureInfo.InvariantCulture),
                e.TrainingAccuracy.ToString("P2", CultureInfo.InvariantCulture),
                e.TestLoss?.ToString("F4", CultureInfo.InvariantCulture) ?? "-",
                e.TestAccuracy?.ToString("P2", CultureInfo.InvariantCulture) ?? "-",
                e.Duration.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(table);
    }

    public static void PrintConfusionMatrix(ConfusionMatrix matrix)
    {
        var table = new Table().Title("Confusion matrix (rows: actual digit, columns: predicted; last columns: recall and precision)");
        table.AddColumn(new TableColumn("").RightAligned());
        for (int j = 0; j < matrix.ClassCount; j++) table.AddColumn(new TableColumn(j.ToString(CultureInfo.InvariantCulture)).RightAligned());
        table.AddColumn(new TableColumn("recall").RightAligned());
        table.AddColumn(new TableColumn("precision").RightAligned());
        for (int i = 0; i < matrix.ClassCount; i++)
        {
            var cells = new List<string> { $"[bold]{i}[/]" };
            for (int j = 0; j < matrix.ClassCount; j++)
            {
                int n = matrix[i, j];
                string text = n.ToString(CultureInfo.InvariantCulture);
                cells.Add(i == j ? $"[green]{text}[/]" : n == 0 ? $"[grey]{text}[/]" : text);
            }
            cells.Add(matrix.Recall(i).ToString("P1", CultureInfo.InvariantCulture));
            cells.Add(matrix.Precision(i).ToString("P1", CultureInfo.InvariantCulture));
            table.AddRow(cells.ToArray());
        }
        AnsiConsole.Write(table);
    }

    /// <summary>Calls back synchronously on the training thread (System.Progress would post to the thread pool).</summary>
    private sealed class Reporter(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
