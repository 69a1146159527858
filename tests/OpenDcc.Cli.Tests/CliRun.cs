using NodaTime;
using NodaTime.Testing;

namespace OpenDcc.Cli.Tests;

/// <summary>Runs <c>opendcc</c> in-process against a temporary data directory and captures what it prints.</summary>
public sealed class CliRun : IDisposable
{
    public CliRun() => Directory.CreateDirectory(DataDirectory);

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "opendcc-cli-" + Guid.NewGuid().ToString("N"));

    public FakeClock Clock { get; } = new(Instant.FromUtc(2026, 11, 28, 9, 0));

    public async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await OpenDccCli.RunAsync(args, output, error, Clock);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Starts an empty store in this run's directory, as a first <c>users add</c> or a <c>serve</c> would.</summary>
    public async Task StartStoreAsync()
    {
        await using var store = await OpenDcc.Storage.OpenDccStore.OpenSqliteAsync(DataDirectory, Clock);
    }

    /// <summary>Runs a command that takes the store options, with <c>--data</c> pointing at this run's directory.</summary>
    public Task<(int ExitCode, string Output, string Error)> RunWithDataAsync(params string[] args) =>
        RunAsync([.. args, "--data", DataDirectory]);

    /// <summary>
    /// Waits until a <c>serve</c> started with <see cref="OpenDccCli.RunAsync"/> prints that it is listening; fails with
    /// what it printed if it ends first or takes over 30 s.
    /// </summary>
    public static async Task WaitUntilListeningAsync(Task<int> serving, StringWriter output, StringWriter error)
    {
        for (var waited = 0; !output.ToString().Contains("listening on", StringComparison.Ordinal); waited += 100)
        {
            Assert.True(waited < 30_000 && !serving.IsCompleted, $"serve did not start: {output}{error}");
            await Task.Delay(100);
        }
    }

    /// <summary>Starts <c>serve</c> with <paramref name="args"/> in this process and waits until it is listening.</summary>
    public static async Task<ServingHub> ServeAsync(string[] args, IClock clock)
    {
        var hub = new ServingHub(args, clock);
        try
        {
            await WaitUntilListeningAsync(hub.Exit, hub.OutputWriter, hub.ErrorWriter);
            return hub;
        }
        catch
        {
            hub.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }
}

/// <summary>A <c>serve</c> running in this process (<see cref="CliRun.ServeAsync"/>): what it prints, and its stop.</summary>
public sealed class ServingHub : IDisposable
{
    private readonly CancellationTokenSource stop = new();

    internal ServingHub(string[] args, IClock clock) =>
        Exit = OpenDccCli.RunAsync(args, TextWriter.Synchronized(OutputWriter), TextWriter.Synchronized(ErrorWriter), clock, stop.Token);

    internal StringWriter OutputWriter { get; } = new();

    internal StringWriter ErrorWriter { get; } = new();

    internal Task<int> Exit { get; }

    public string Output => OutputWriter.ToString();

    /// <summary>Stops it as Ctrl-C does; its exit code.</summary>
    public async Task<int> StopAsync()
    {
        await stop.CancelAsync();
        return await Exit;
    }

    public void Dispose()
    {
        stop.Cancel();
        stop.Dispose();
        OutputWriter.Dispose();
        ErrorWriter.Dispose();
    }
}
