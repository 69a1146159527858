using System.Net;
using System.Text.Json;

namespace OpenDcc.Cli.Tests;

public sealed class ServeCommandTests : IDisposable
{
    private readonly CliRun cli = new();

    [Fact]
    public async Task Serve_starts_the_hub_on_sqlite_answers_health_and_stops_on_cancel()
    {
        var port = FreePort();
        using var stop = new CancellationTokenSource();
        using var output = new StringWriter();
        using var error = new StringWriter();
        // Orleans ports of its own, so that the other tests' hubs running at the same time cannot take them.
        var serving = OpenDccCli.RunAsync(
            ["serve", "--data", cli.DataDirectory, "--urls", $"http://127.0.0.1:{port}", "--silo-port", $"{FreePort()}", "--gateway-port", $"{FreePort()}"],
            TextWriter.Synchronized(output), TextWriter.Synchronized(error), cli.Clock, stop.Token);
        for (var waited = 0; !output.ToString().Contains("listening on", StringComparison.Ordinal); waited += 100)
        {
            Assert.True(waited < 30_000 && !serving.IsCompleted, $"serve did not start: {output}{error}");
            await Task.Delay(100);
        }

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        using var response = await http.GetAsync(new Uri("/health", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var health = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", health.RootElement.GetProperty("status").GetString());
        Assert.StartsWith("sqlite ", health.RootElement.GetProperty("checks").GetProperty("store").GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(cli.DataDirectory, "opendcc.db")));

        await stop.CancelAsync();
        Assert.Equal(0, await serving);
        Assert.Contains("listening on", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("stopped", output.ToString(), StringComparison.Ordinal);
    }

    private static int FreePort() => OpenDcc.Hub.LoopbackPorts.Free();

    public void Dispose() => cli.Dispose();
}
