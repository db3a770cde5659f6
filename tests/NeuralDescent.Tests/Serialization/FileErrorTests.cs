using NeuralDescent.Data;
using NeuralDescent.Layers;
using NeuralDescent.Serialization;

namespace NeuralDescent.Tests.Serialization;

/// <summary>What a user sees when a path is not a readable file, and what a killed save leaves behind.</summary>
public sealed class FileErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nd-files-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Loading_ADirectoryOrAMissingFile_SaysWhatThePathIs()
    {
        FluentActions.Invoking(() => ModelFile.Load(_dir)).Should().Throw<IOException>().WithMessage($"'{_dir}' is a directory, not a file.");
        string missing = Path.Combine(_dir, "nope.safetensors");
        FluentActions.Invoking(() => ModelFile.Load(missing)).Should().Throw<FileNotFoundException>().WithMessage($"'{missing}' does not exist.");
        FluentActions.Invoking(() => Checkpoint.Load(_dir)).Should().Throw<IOException>().WithMessage("*is a directory*");
        FluentActions.Invoking(() => IdxReader.Read(_dir)).Should().Throw<IOException>().WithMessage("*is a directory*");
    }

    [Fact]
    public void ASuccessfulSave_RemovesTheTemporariesOfKilledSaves()
    {
        string path = Path.Combine(_dir, "model.safetensors");
        // Leftovers as a save killed before its rename leaves them: one of an ended process, one of this process that
        // no save owns any more, and one of a live process (pid 1) that may still be writing.
        string ended = Path.Combine(_dir, $".model.safetensors.99999999.{Guid.NewGuid():N}.tmp");
        string ours = Path.Combine(_dir, $".model.safetensors.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        string live = Path.Combine(_dir, $".model.safetensors.1.{Guid.NewGuid():N}.tmp");
        string other = Path.Combine(_dir, $".other.safetensors.99999999.{Guid.NewGuid():N}.tmp");
        foreach (string f in new[] { ended, ours, live, other }) File.WriteAllBytes(f, new byte[1000]);

        ModelFile.Save(new Network(new Dense(3, 2)), path);

        File.Exists(path).Should().BeTrue();
        File.Exists(ended).Should().BeFalse();
        File.Exists(ours).Should().BeFalse();
        File.Exists(live).Should().BeTrue("process 1 is alive and may still be writing it");
        File.Exists(other).Should().BeTrue("it belongs to another destination");
    }

    [Fact]
    public void Classify_OfANonFiniteOutput_Throws()
    {
        var network = new Network(new Dense(3, 4), new Softmax());
        FluentActions.Invoking(() => network.Classify([1f, float.NaN, 0f])).Should().Throw<ArgumentException>().WithMessage("The network's output 0 is NaN*");
        network.Classify([1f, 2f, 0f]).Should().BeInRange(0, 3);
    }

    [Fact]
    public void ALayerTooLargeForAnArray_IsNamedInTheError()
    {
        FluentActions.Invoking(() => new Dense(60000, 60000)).Should().Throw<ArgumentException>().WithMessage("Dense(60000→60000): tensor 'weight' of shape [60000×60000] has more than*");
        FluentActions.Invoking(() => new Conv2D(5000, 5000, 11)).Should().Throw<ArgumentException>().WithMessage("Conv2D(5000→5000, 11×11): tensor 'weight'*");
    }

    [Fact]
    public void ABatchWhoseActivationsPassIntRange_IsRefusedNamingTheLayer()
    {
        var network = new Network(new Dense(1, 50000), new Sigmoid(), new Dense(50000, 1));
        // PredictBatch splits a large batch into chunks, so 50,000 rows of 50,000 activations work.
        var outputs = new float[50_000];
        network.PredictBatch(new float[50_000], outputs, 50_000);
        outputs.Should().OnlyContain(v => float.IsFinite(v));
        // Training takes the batch whole.
        var trainer = new NeuralDescent.Training.Trainer(new NeuralDescent.Costs.QuadraticCost(), new NeuralDescent.Optimizers.Sgd(0.1f));
        FluentActions.Invoking(() => trainer.TrainBatch(network, new float[60_000], new float[60_000], 60_000))
            .Should().Throw<ArgumentException>().WithMessage("A batch of 60000 samples of the output of layer 0 Dense(1→50000) (50000) holds 60000 × 50000 = 3000000000 values*use a smaller batch size.");
    }
}
