using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;
using NodaTime;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using OpenDcc.Core.Translation;
using OpenDcc.Hub;
using OpenDcc.Simulator.Devices;
using OpenDcc.Simulator.Wan;

namespace OpenDcc.Cli.Tests;

public sealed class SimulateCommandTests : IDisposable
{
    private static readonly Eui64 Supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
    private readonly CliRun cli = new();

    [Fact]
    public async Task Serve_with_simulator_reads_a_meter_of_an_opendcc_simulate_process_and_the_answer_carries_its_register()
    {
        using var simulator = SimulateProcess.Start("--sites", "2", "--seed", "5", "--listen", "127.0.0.1:0");
        var url = await simulator.ListeningUrlAsync();
        await using var receiver = await ResponseReceiver.StartAsync();
        Assert.Equal(0, (await cli.RunWithDataAsync("keys", "init")).ExitCode);
        Assert.Equal(0, (await cli.RunWithDataAsync("users", "add", "--id", Supplier.ToString(), "--role", "IS", "--name", "Supplier", "--response-url", receiver.Url.ToString())).ExitCode);
        var keys = Path.Combine(cli.DataDirectory, "supplier-keys");
        Assert.Equal(0, (await cli.RunWithDataAsync("certs", "issue", "--id", Supplier.ToString(), "--out", keys)).ExitCode);

        var port = LoopbackPorts.Free();
        using var stop = new CancellationTokenSource();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var serving = OpenDccCli.RunAsync(["serve", "--data", cli.DataDirectory, "--urls", $"http://127.0.0.1:{port}", "--simulator", url], TextWriter.Synchronized(output), TextWriter.Synchronized(error), SystemClock.Instance, stop.Token);
        for (var waited = 0; !output.ToString().Contains("listening on", StringComparison.Ordinal); waited += 100)
        {
            Assert.True(waited < 30_000 && !serving.IsCompleted, $"serve did not start: {output}{error}");
            await Task.Delay(100);
        }
        Assert.Contains("2 simulated sites, seed 5 (10 devices added to the inventory)", output.ToString(), StringComparison.Ordinal);

        // The simulate process's fleet: seed 5, site 0's electricity meter.
        var meter = new SimulatedFleet(5, 2)[0].ElectricityMeter;
        var stem = Path.Combine(keys, $"{Supplier.ToCompactString()}-87");
        using var certificate = X509Certificate2.CreateFromPemFile(stem + ".crt.pem", stem + ".key.pem");
        var request = DuisSignature.Sign(DuisRequestWriter.Write(new RequestId(Supplier, meter.Id, 1), 1, ServiceCatalogue.Duis["4.1.1"], []), certificate);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        using var content = new ByteArrayContent(request);
        content.Headers.ContentType = new("application/xml");
        using var response = await http.PostAsync(new Uri("/api/v1/serviceS", UriKind.Relative), content);
        Assert.Equal("I99", XDocument.Parse(await response.Content.ReadAsStringAsync()).Descendants(DuisNamespaces.Sr + "ResponseCode").Single().Value);

        var answer = XDocument.Parse(await receiver.NextAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal("I0", answer.Descendants(DuisNamespaces.Sr + "ResponseCode").Single().Value);
        // Read as the supplier would: the same seed gives the same device keys in this process as in the simulator's.
        using var world = SimulatedWorld.Create(new FileKeyStore(Path.Combine(cli.DataDirectory, "keys")), Eui64Defaults.Dsp, new SimulatedFleet(5, 2), SystemClock.Instance);
        var decoded = world.ReadAnswer(Convert.FromBase64String(answer.Descendants(DuisNamespaces.Sr + "GBCSPayload").Single().Value), meter.Id, Eui64Defaults.Dsp);
        Assert.True(decoded.Succeeded, decoded.Reason);
        var registers = Assert.IsType<DeviceOutcome.Registers>(decoded.Value);
        Assert.Equal(Assert.IsType<DeviceOutcome.Registers>(meter.Execute(new DeviceOperation.ReadImportRegisters(), registers.At)).Import, registers.Import);

        await stop.CancelAsync();
        Assert.Equal(0, await serving);
    }

    [Theory]
    [InlineData("ftp://127.0.0.1:8089", "is not an http:// URL")]
    [InlineData("http://192.0.2.1:8089", "192.0.2.1 is not a loopback address")]
    [InlineData("not a url", "'not a url' is not a URL")]
    public async Task Serve_refuses_a_simulator_url_that_is_not_http_on_loopback_naming_the_option(string url, string fault)
    {
        var (code, _, error) = await cli.RunWithDataAsync("serve", "--urls", $"http://127.0.0.1:{LoopbackPorts.Free()}", "--simulator", url);
        Assert.Equal(1, code);
        Assert.Contains("--simulator", error, StringComparison.Ordinal);
        Assert.Contains(fault, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_says_so_when_no_simulator_answers_and_exits_1()
    {
        var (code, _, error) = await cli.RunWithDataAsync("serve", "--urls", $"http://127.0.0.1:{LoopbackPorts.Free()}", "--simulator", $"http://127.0.0.1:{LoopbackPorts.Free()}");
        Assert.Equal(1, code);
        Assert.Contains("--simulator: no WAN answers at", error, StringComparison.Ordinal);
        Assert.Contains("is 'opendcc simulate' running there?", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_refuses_sites_together_with_a_simulator()
    {
        var (code, _, error) = await cli.RunWithDataAsync("serve", "--sites", "3", "--simulator", "http://127.0.0.1:8089");
        Assert.Equal(1, code);
        Assert.Contains("--sites and --seed are for the in-process fleet", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--listen", "10.1.2.3:8089", "--listen: 10.1.2.3 is not a loopback address")]
    [InlineData("--listen", "8089", "--listen: '8089' is not ADDRESS:PORT")]
    [InlineData("--loss", "1.5", "--loss must be between 0 and 1")]
    [InlineData("--latency", "-1", "--latency must be between 0")]
    [InlineData("--offline", "11", "--offline must be between 0 and --sites (10)")]
    public async Task Simulate_refuses_bad_options_naming_them(string option, string value, string fault)
    {
        var (code, _, error) = await cli.RunAsync("simulate", option, value);
        Assert.Equal(1, code);
        Assert.Contains(fault, error, StringComparison.Ordinal);
    }

    public void Dispose() => cli.Dispose();
}

/// <summary><c>opendcc simulate</c> as a process of its own, from the CLI assembly this test project builds; killed when disposed.</summary>
internal sealed class SimulateProcess : IDisposable
{
    private readonly Process process;

    private SimulateProcess(Process process) => this.process = process;

    public static SimulateProcess Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "opendcc.dll"));
        start.ArgumentList.Add("simulate");
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        return new SimulateProcess(Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start"));
    }

    /// <summary>The URL the simulator prints once it listens.</summary>
    public async Task<string> ListeningUrlAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.Contains("listening on ", StringComparison.Ordinal))
            {
                return line.Split("listening on ")[1].Split(' ')[0];
            }
        }
        throw new InvalidOperationException($"opendcc simulate ended: {await process.StandardError.ReadToEndAsync(timeout.Token)}");
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        process.Dispose();
    }
}
