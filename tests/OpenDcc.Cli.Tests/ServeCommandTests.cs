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
        // Orleans ports of its own, so that the other tests' hubs running at the same time cannot take them.
        using var serving = await CliRun.ServeAsync(
            ["serve", "--data", cli.DataDirectory, "--urls", $"http://127.0.0.1:{port}", "--silo-port", $"{FreePort()}", "--gateway-port", $"{FreePort()}"], cli.Clock);

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        using var response = await http.GetAsync(new Uri("/health", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var health = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", health.RootElement.GetProperty("status").GetString());
        Assert.StartsWith("sqlite ", health.RootElement.GetProperty("checks").GetProperty("store").GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(cli.DataDirectory, "opendcc.db")));

        Assert.Equal(0, await serving.StopAsync());
        Assert.Contains("listening on", serving.Output, StringComparison.Ordinal);
        Assert.Contains("stopped", serving.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_hub_on_the_same_data_directory_is_refused_while_the_first_serves_and_taken_after_it_stops()
    {
        using var stop = new CancellationTokenSource();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var firstArgs = Serve();
        var first = OpenDccCli.RunAsync(firstArgs, TextWriter.Synchronized(output), TextWriter.Synchronized(error), cli.Clock, stop.Token);
        await CliRun.WaitUntilListeningAsync(first, output, error);

        // Were it not refused, it would serve until this stops it and exit 0. With the first hub's own Orleans ports too
        // (as two plain 'serve's have), the hub in the way is named, not its ports.
        foreach (var secondArgs in new[] { Serve(), [.. Serve()[..^4], .. firstArgs[^4..]] })
        {
            using var refusal = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            using var refused = new StringWriter();
            Assert.Equal(1, await OpenDccCli.RunAsync(secondArgs, TextWriter.Null, refused, cli.Clock, refusal.Token));
            Assert.StartsWith($"opendcc: data directory {cli.DataDirectory} is in use by another hub", refused.ToString(), StringComparison.Ordinal);
        }

        await stop.CancelAsync();
        Assert.Equal(0, await first);
        using var again = new CancellationTokenSource();
        using var againOutput = new StringWriter();
        using var againError = new StringWriter();
        var second = OpenDccCli.RunAsync(Serve(), TextWriter.Synchronized(againOutput), TextWriter.Synchronized(againError), cli.Clock, again.Token);
        await CliRun.WaitUntilListeningAsync(second, againOutput, againError);
        await again.CancelAsync();
        Assert.Equal(0, await second);
    }

    [Fact]
    public async Task An_adapter_that_does_not_load_or_a_model_given_an_unknown_adapter_is_refused_naming_its_option()
    {
        var notAnAssembly = Path.Combine(cli.DataDirectory, "not-an-adapter.dll");
        await File.WriteAllTextAsync(notAnAssembly, "not IL");

        var (code, output, error) = await cli.RunAsync([.. Serve(), "--adapter", notAnAssembly]);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.StartsWith($"opendcc: --adapter: {notAnAssembly} is not a .NET assembly", error, StringComparison.Ordinal);

        (code, output, error) = await cli.RunAsync([.. Serve(), "--model-adapter", "MODEL-X=no-such-adapter"]);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Equal("opendcc: --model-adapter: no adapter is named 'no-such-adapter' (known: gbcs-reference, early-smart-reference)", error.Trim());
    }

    [Theory]
    [InlineData("dsp-xmlsign.crt.pem")]
    [InlineData("dsp-xmlsign.key.pem")]
    public async Task Serve_refuses_a_dsp_identity_missing_its_certificate_or_key_and_makes_no_keys_in_its_place(string missing)
    {
        Assert.Equal(0, (await cli.RunWithDataAsync("keys", "init")).ExitCode);
        var keys = Path.Combine(cli.DataDirectory, "keys");
        File.Delete(Path.Combine(keys, missing));
        var before = OwnKeys(keys);

        // Were it not refused, it would serve (with new keys) until this stops it, and exit 0.
        using var refusal = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await OpenDccCli.RunAsync(Serve(), output, error, cli.Clock, refusal.Token);

        Assert.Equal(1, code);
        Assert.DoesNotContain("listening on", output.ToString(), StringComparison.Ordinal);
        Assert.Contains($"without {Path.Combine(keys, missing)}: the DSP XmlSign identity is incomplete", error.ToString(), StringComparison.Ordinal);
        // The local CA that issued the users' certificates, and the DSP key or certificate left, are as they were.
        Assert.Equal(before, OwnKeys(keys));
    }

    [Fact]
    public async Task Serve_with_a_local_ca_and_no_dsp_identity_has_that_ca_issue_one_and_keeps_it()
    {
        Assert.Equal(0, (await cli.RunWithDataAsync("keys", "init")).ExitCode);
        var keys = Path.Combine(cli.DataDirectory, "keys");
        File.Delete(Path.Combine(keys, "dsp-xmlsign.crt.pem"));
        File.Delete(Path.Combine(keys, "dsp-xmlsign.key.pem"));
        var ca = (File.ReadAllText(Path.Combine(keys, "local-ca.crt.pem")), File.ReadAllText(Path.Combine(keys, "local-ca.key.pem")));

        using (var serving = await CliRun.ServeAsync(Serve(), cli.Clock))
        {
            Assert.Equal(0, await serving.StopAsync());
        }

        Assert.Equal(ca, (File.ReadAllText(Path.Combine(keys, "local-ca.crt.pem")), File.ReadAllText(Path.Combine(keys, "local-ca.key.pem"))));
        var store = new OpenDcc.Core.Security.FileKeyStore(keys);
        using var dsp = store.LoadDspIdentity();
        using var authority = store.LoadLocalCa();
        Assert.Null(OpenDcc.Core.Security.TrustedIssuers.WhyNotIssuedBy(dsp, [authority.Certificate], DateTimeOffset.UtcNow));
    }

    /// <summary>The local CA's and the DSP identity's files (the ACB's key-agreement key is the simulator's, made before the hub).</summary>
    private static Dictionary<string, string> OwnKeys(string keys) =>
        Directory.GetFiles(keys).Where(f => Path.GetFileName(f).StartsWith("local-ca.", StringComparison.Ordinal) || Path.GetFileName(f).StartsWith("dsp-xmlsign.", StringComparison.Ordinal))
            .ToDictionary(f => f, File.ReadAllText);

    private string[] Serve() =>
        ["serve", "--data", cli.DataDirectory, "--sites", "1", "--urls", $"http://127.0.0.1:{FreePort()}", "--silo-port", $"{FreePort()}", "--gateway-port", $"{FreePort()}"];

    private static int FreePort() => OpenDcc.Hub.LoopbackPorts.Free();

    public void Dispose() => cli.Dispose();
}
