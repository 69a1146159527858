using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;
using NodaTime;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.Gbcs;
using OpenDcc.Hub;
using OpenDcc.Simulator.Devices;
using OpenDcc.Simulator.Wan;

namespace OpenDcc.Cli.Tests;

public sealed class SimulateCommandTests : IDisposable
{
    private static readonly Eui64 Supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
    private static readonly Eui64 NetworkOperator = Eui64.Parse("90-B3-D5-1F-30-02-00-00");
    private readonly CliRun cli = new();

    [Fact]
    public async Task Serve_with_simulator_reads_a_meter_of_an_opendcc_simulate_process_and_the_answer_carries_its_register()
    {
        using var simulator = OpenDccProcess.Start("simulate", "--sites", "2", "--seed", "5", "--listen", "127.0.0.1:0");
        var url = await simulator.ListeningUrlAsync();
        await using var receiver = await ResponseReceiver.StartAsync();
        using var certificate = await ProvisionSupplierAsync(receiver.Url);

        var port = LoopbackPorts.Free();
        using var serving = await CliRun.ServeAsync(ServeArguments(port, url), SystemClock.Instance);
        Assert.Contains("2 simulated sites, seed 5 (10 devices added to the inventory)", serving.Output, StringComparison.Ordinal);

        // A second hub (its own data directory, so its own ACB key) is refused the simulator, and the first keeps it.
        var (second, _, refused) = await cli.RunAsync(["serve", "--data", Path.Combine(cli.DataDirectory, "second"), "--urls", $"http://127.0.0.1:{LoopbackPorts.Free()}", "--silo-port", $"{LoopbackPorts.Free()}", "--gateway-port", $"{LoopbackPorts.Free()}", "--simulator", url]);
        Assert.Equal(1, second);
        Assert.Contains($"--simulator: the WAN at {url}/ refused this hub: giving it the ACB key: HTTP 409: a hub with ACB", refused, StringComparison.Ordinal);
        Assert.DoesNotContain("running there?", refused, StringComparison.Ordinal);
        // Nor does a hub with the first one's own ACB key (a copy of its keys): it would get every alert too.
        var copy = Path.Combine(cli.DataDirectory, "copy");
        foreach (var file in Directory.GetFiles(Path.Combine(cli.DataDirectory, "keys")))
        {
            Directory.CreateDirectory(Path.Combine(copy, "keys"));
            File.Copy(file, Path.Combine(copy, "keys", Path.GetFileName(file)));
        }
        var (third, _, alsoRefused) = await cli.RunAsync(["serve", "--data", copy, "--urls", $"http://127.0.0.1:{LoopbackPorts.Free()}", "--silo-port", $"{LoopbackPorts.Free()}", "--gateway-port", $"{LoopbackPorts.Free()}", "--simulator", url]);
        Assert.Equal(1, third);
        Assert.Contains("opening its alert stream: HTTP 409: a hub is connected", alsoRefused, StringComparison.Ordinal);

        // The simulate process's fleet: seed 5, site 0's electricity meter.
        var meter = new SimulatedFleet(5, 2)[0].ElectricityMeter;
        Assert.Equal("I99", await ReadMeterAsync(port, new RequestId(Supplier, meter.Id, 1), certificate));

        var answer = XDocument.Parse(await receiver.NextAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal("I0", answer.Descendants(DuisNamespaces.Sr + "ResponseCode").Single().Value);
        // Read as the supplier would: the same seed gives the same device keys in this process as in the simulator's.
        using var world = SimulatedWorld.Create(new FileKeyStore(Path.Combine(cli.DataDirectory, "keys")), Eui64Defaults.Dsp, new SimulatedFleet(5, 2), SystemClock.Instance);
        var decoded = world.ReadAnswer(Convert.FromBase64String(answer.Descendants(DuisNamespaces.Sr + "GBCSPayload").Single().Value), meter.Id, Eui64Defaults.Dsp);
        Assert.True(decoded.Succeeded, decoded.Reason);
        var registers = Assert.IsType<DeviceOutcome.Registers>(decoded.Value);
        Assert.Equal(Assert.IsType<DeviceOutcome.Registers>(meter.Execute(new DeviceOperation.ReadImportRegisters(), registers.At)).Import, registers.Import);

        Assert.Equal(0, await serving.StopAsync());
    }

    [Fact]
    public async Task A_hub_killed_with_a_command_acknowledged_and_unanswered_answers_it_E21_when_it_serves_again()
    {
        // A WAN that loses every command: the hub waits for the device's answer (three attempts of 10 s) and is killed meanwhile.
        using var simulator = OpenDccProcess.Start("simulate", "--sites", "1", "--seed", "5", "--listen", "127.0.0.1:0", "--loss", "1");
        var url = await simulator.ListeningUrlAsync();
        await using var receiver = await ResponseReceiver.StartAsync();
        using var certificate = await ProvisionSupplierAsync(receiver.Url);
        var port = LoopbackPorts.Free();
        using (var killed = OpenDccProcess.Start("serve", ServeArguments(port, url)[1..]))
        {
            await killed.ListeningUrlAsync();
            var request = new RequestId(Supplier, new SimulatedFleet(5, 1)[0].ElectricityMeter.Id, 1);
            Assert.Equal("I99", await ReadMeterAsync(port, request, certificate));
            killed.Kill();
        }
        await Assert.ThrowsAsync<TimeoutException>(() => receiver.NextAsync(TimeSpan.FromSeconds(1)));

        using var serving = await CliRun.ServeAsync(ServeArguments(LoopbackPorts.Free(), url), SystemClock.Instance);

        var answer = XDocument.Parse(await receiver.NextAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal("E21", answer.Descendants(DuisNamespaces.Sr + "ResponseCode").Single().Value);
        Assert.Equal($"{new RequestId(Supplier, new SimulatedFleet(5, 1)[0].ElectricityMeter.Id, 1).ToResponseId()}", answer.Descendants(DuisNamespaces.Sr + "ResponseID").Single().Value);
        Assert.Equal(0, await serving.StopAsync());
        var verified = await cli.RunWithDataAsync("log", "verify");
        Assert.True(verified.ExitCode == 0, verified.Output + verified.Error);
    }

    /// <summary>Keys, the supplier with its response URL, and its XmlSign certificate (with its key).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_device_installed_under_an_rtds_id_joins_the_inventory_and_answers_as_site_0s_meter(bool overLoopback)
    {
        // The DCC Boxed RTDS electricity meter, whose ID the RTDS request templates address.
        var rtdsMeter = Eui64.Parse("00-DB-12-34-56-78-90-A0");
        var install = $"{rtdsMeter}=ESME";
        using var simulator = overLoopback ? OpenDccProcess.Start("simulate", "--sites", "1", "--seed", "5", "--listen", "127.0.0.1:0", "--install", install) : null;
        var url = simulator is null ? null : await simulator.ListeningUrlAsync();
        await using var receiver = await ResponseReceiver.StartAsync();
        using var certificate = await ProvisionSupplierAsync(receiver.Url);

        var port = LoopbackPorts.Free();
        string[] arguments = url is not null
            ? ServeArguments(port, url)
            : ["serve", "--data", cli.DataDirectory, "--urls", $"http://127.0.0.1:{port}", "--silo-port", $"{LoopbackPorts.Free()}", "--gateway-port", $"{LoopbackPorts.Free()}", "--sites", "1", "--seed", "5", "--install", install];
        using var serving = await CliRun.ServeAsync(arguments, SystemClock.Instance);
        Assert.Contains("(6 devices added to the inventory)", serving.Output, StringComparison.Ordinal);

        Assert.Equal("I99", await ReadMeterAsync(port, new RequestId(Supplier, rtdsMeter, 1), certificate));
        var answer = XDocument.Parse(await receiver.NextAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal("I0", answer.Descendants(DuisNamespaces.Sr + "ResponseCode").Single().Value);
        // Site 0's meter's register, framed under the RTDS ID.
        using var world = SimulatedWorld.Create(new FileKeyStore(Path.Combine(cli.DataDirectory, "keys")), Eui64Defaults.Dsp, new SimulatedFleet(5, 1), SystemClock.Instance);
        world.Wan.InstallSiteDevice(rtdsMeter, Core.Inventory.DeviceType.ESME);
        var decoded = world.ReadAnswer(Convert.FromBase64String(answer.Descendants(DuisNamespaces.Sr + "GBCSPayload").Single().Value), rtdsMeter, Eui64Defaults.Dsp);
        Assert.True(decoded.Succeeded, decoded.Reason);
        Assert.True(Assert.IsType<DeviceOutcome.Registers>(decoded.Value).Import > 0);

        Assert.Equal(0, await serving.StopAsync());
    }

    private async Task<X509Certificate2> ProvisionSupplierAsync(Uri responseUrl)
    {
        Assert.Equal(0, (await cli.RunWithDataAsync("keys", "init")).ExitCode);
        Assert.Equal(0, (await cli.RunWithDataAsync("users", "add", "--id", Supplier.ToString(), "--role", "IS", "--name", "Supplier", "--response-url", responseUrl.ToString())).ExitCode);
        var keys = Path.Combine(cli.DataDirectory, "supplier-keys");
        Assert.Equal(0, (await cli.RunWithDataAsync("certs", "issue", "--id", Supplier.ToString(), "--out", keys)).ExitCode);
        return Certificate(keys, "87");
    }

    private string[] ServeArguments(int port, string simulatorUrl) =>
        ["serve", "--data", cli.DataDirectory, "--urls", $"http://127.0.0.1:{port}", "--silo-port", $"{LoopbackPorts.Free()}", "--gateway-port", $"{LoopbackPorts.Free()}", "--simulator", simulatorUrl];

    /// <summary>Posts a signed 4.1.1 for <paramref name="request"/>'s meter; the synchronous response code.</summary>
    private static async Task<string> ReadMeterAsync(int port, RequestId request, X509Certificate2 certificate)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        using var content = new ByteArrayContent(DuisSignature.Sign(DuisRequestWriter.Write(request, 1, ServiceCatalogue.Duis["4.1.1"], []), certificate));
        content.Headers.ContentType = new("application/xml");
        using var response = await http.PostAsync(new Uri("/api/v1/serviceS", UriKind.Relative), content);
        return XDocument.Parse(await response.Content.ReadAsStringAsync()).Descendants(DuisNamespaces.Sr + "ResponseCode").Single().Value;
    }

    [Fact]
    public async Task Serve_with_simulator_and_a_fleet_supplier_switches_a_meters_supply_by_signed_critical_commands_and_routes_the_simulators_power_cut()
    {
        // Site 1's power goes for 3 s once the hub connects.
        using var simulator = OpenDccProcess.Start("simulate", "--sites", "2", "--seed", "5", "--listen", "127.0.0.1:0", "--outage", "1:0.05");
        var url = await simulator.ListeningUrlAsync();
        await using var receiver = await ResponseReceiver.StartAsync();
        Assert.Equal(0, (await cli.RunWithDataAsync("keys", "init")).ExitCode);
        Assert.Equal(0, (await cli.RunWithDataAsync("users", "add", "--id", Supplier.ToString(), "--role", "IS", "--name", "Supplier", "--response-url", receiver.Url.ToString())).ExitCode);
        Assert.Equal(0, (await cli.RunWithDataAsync("users", "add", "--id", NetworkOperator.ToString(), "--role", "ED", "--name", "DNO", "--response-url", receiver.Url.ToString())).ExitCode);
        var keys = Path.Combine(cli.DataDirectory, "supplier-keys");
        Assert.Equal(0, (await cli.RunWithDataAsync("certs", "issue", "--id", Supplier.ToString(), "--out", keys)).ExitCode);
        Assert.Equal(0, (await cli.RunWithDataAsync("certs", "issue", "--id", Supplier.ToString(), "--role", "02", "--out", keys)).ExitCode);

        var port = LoopbackPorts.Free();
        using var serving = await CliRun.ServeAsync(["serve", "--data", cli.DataDirectory, "--urls", $"http://127.0.0.1:{port}", "--silo-port", $"{LoopbackPorts.Free()}", "--gateway-port", $"{LoopbackPorts.Free()}", "--simulator", url, "--fleet-supplier", Supplier.ToString(), "--fleet-network-operator", NetworkOperator.ToString(), "--cell-concurrency", "4"], SystemClock.Instance);
        Assert.Contains($"registered to supplier {Supplier} and network operator {NetworkOperator} (the meters hold its Digital Signing key)", serving.Output, StringComparison.Ordinal);

        var fleet = new SimulatedFleet(5, 2);
        var meter = fleet[0].ElectricityMeter.Id;
        using var xmlSign = Certificate(keys, "87");
        using var digitalSigning = Certificate(keys, "02");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var counter = 10UL;
        async Task<XDocument> PostAsync(string path, byte[] unsigned)
        {
            using var content = new ByteArrayContent(DuisSignature.Sign(unsigned, xmlSign));
            content.Headers.ContentType = new("application/xml");
            using var response = await http.PostAsync(new Uri(path, UriKind.Relative), content);
            return XDocument.Parse(await response.Content.ReadAsStringAsync());
        }
        var answers = new List<XDocument>();
        async Task<XDocument> NextAnswerAsync()
        {
            while (true)
            {
                var next = XDocument.Parse(await receiver.NextAsync(TimeSpan.FromSeconds(20)));
                if (next.Descendants(DuisNamespaces.Sr + "DeviceAlertMessage").Any() || next.Descendants(DuisNamespaces.Sr + "DCCAlertMessage").Any())
                {
                    answers.Add(next);
                    continue;
                }
                return next;
            }
        }
        using var world = SimulatedWorld.Create(new FileKeyStore(Path.Combine(cli.DataDirectory, "keys")), Eui64Defaults.Dsp, new SimulatedFleet(5, 2), SystemClock.Instance);
        foreach (var srv in new[] { "7.2", "7.1" })
        {
            var transformed = await PostAsync("/api/v1/serviceT", DuisRequestWriter.Write(new RequestId(Supplier, meter, ++counter), 4, ServiceCatalogue.Duis[srv], []));
            Assert.Equal("I0", transformed.Descendants(DuisNamespaces.Sr + "ResponseCode").Single().Value);
            var preCommand = Convert.FromBase64String(transformed.Descendants(DuisNamespaces.Sr + "PreCommand").Single().Element(DuisNamespaces.Sr + "GBCSPayload")!.Value);
            using var signingKey = digitalSigning.GetECDsaPrivateKey()!;
            var sent = await PostAsync("/api/v1/serviceS", DuisRequestWriter.WriteSignedPreCommand(new RequestId(Supplier, meter, ++counter), ServiceCatalogue.Duis[srv], GbcsCodec.SignPreCommand(preCommand, signingKey)));
            Assert.Equal("I99", sent.Descendants(DuisNamespaces.Sr + "ResponseCode").Single().Value);

            var answer = await NextAnswerAsync();
            Assert.Equal("I0", answer.Descendants(DuisNamespaces.Sr + "ResponseCode").Single().Value);
            var decoded = world.ReadAnswer(Convert.FromBase64String(answer.Descendants(DuisNamespaces.Sr + "GBCSPayload").Single().Value), meter, Eui64Defaults.Dsp);
            Assert.True(decoded.Succeeded, decoded.Reason);
            // Done, not Refused: the meter in the other process held the supplier's key and executed the command.
            Assert.IsType<DeviceOutcome.Done>(decoded.Value);
        }

        // The power cut at site 1: the comms hub's outage as a DCC alert from the DCC, the meter's restoration as its own
        // alert, each to the supplier and the network operator.
        while (answers.Count < 4)
        {
            answers.Add(XDocument.Parse(await receiver.NextAsync(TimeSpan.FromSeconds(20))));
        }
        var alerts = answers.Select(a => (
            Id: RequestId.Parse(a.Descendants(DuisNamespaces.Sr + "ResponseID").Single().Value),
            Code: (a.Descendants(DuisNamespaces.Sr + "DCCAlertCode").SingleOrDefault() ?? a.Descendants(DuisNamespaces.Sr + "AlertCode").Single()).Value)).ToList();
        Assert.All(alerts, a => Assert.Equal(a.Code == "AD1" ? Eui64Defaults.Dsp : fleet[1].ElectricityMeter.Id, a.Id.Originator));
        Assert.Equal(["8F36", "AD1"], alerts.Where(a => a.Id.Target == Supplier).Select(a => a.Code).Order(StringComparer.Ordinal));
        Assert.Equal(["8F36", "AD1"], alerts.Where(a => a.Id.Target == NetworkOperator).Select(a => a.Code).Order(StringComparer.Ordinal));
        Assert.All(answers.SelectMany(a => a.Descendants(DuisNamespaces.Sr + "CommsHubDeviceID")), hub => Assert.Equal(fleet[1].CommsHubId.ToString(), hub.Value));

        Assert.Equal(0, await serving.StopAsync());
    }

    [Theory]
    [InlineData("--fleet-supplier", "not-an-eui", "--fleet-supplier:")]
    [InlineData("--fleet-network-operator", "90-B3-D5-1F-30-02-00-00", "--fleet-network-operator: needs --fleet-supplier")]
    [InlineData("--cell-concurrency", "0", "--cell-concurrency must be between 1 and 100,000")]
    [InlineData("--region-concurrency", "-3", "--region-concurrency must be between 1 and 100,000")]
    [InlineData("--alerts-per-window", "0", "--alerts-per-window must be between 1 and 100,000")]
    [InlineData("--alert-window", "86401", "--alert-window must be between 1 and 86,400 seconds")]
    [InlineData("--log-checkpoint-interval", "0", "--log-checkpoint-interval must be between 1 and 86,400 seconds")]
    [InlineData("--silo-port", "0", "--silo-port must be between 1 and 65,535")]
    [InlineData("--gateway-port", "65536", "--gateway-port must be between 1 and 65,535")]
    [InlineData("--gateway-port", "11111", "--gateway-port must differ from --silo-port")]
    [InlineData("--sites", "-1", "--sites must be between 0 and 1,000,000")]
    public async Task Serve_refuses_bad_ports_and_wan_and_registration_options_naming_them(string option, string value, string fault)
    {
        var (code, _, error) = await cli.RunWithDataAsync("serve", "--urls", $"http://127.0.0.1:{LoopbackPorts.Free()}", option, value);
        Assert.Equal(1, code);
        Assert.StartsWith("opendcc: ", error, StringComparison.Ordinal);
        Assert.Contains(fault, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--silo-port")]
    [InlineData("--gateway-port")]
    public async Task Serve_names_the_orleans_port_another_program_holds(string taken)
    {
        using var other = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, LoopbackPorts.Free());
        other.Start();
        var port = ((System.Net.IPEndPoint)other.LocalEndpoint).Port;
        var ports = taken == "--silo-port" ? (Silo: port, Gateway: LoopbackPorts.Free()) : (Silo: LoopbackPorts.Free(), Gateway: port);
        var (code, _, error) = await cli.RunWithDataAsync("serve", "--urls", $"http://127.0.0.1:{LoopbackPorts.Free()}", "--silo-port", $"{ports.Silo}", "--gateway-port", $"{ports.Gateway}", "--sites", "1");
        Assert.Equal(1, code);
        Assert.Contains($"opendcc: {taken} {port}: 127.0.0.1:{port} is in use by another program", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not-a-url", "not a URL to listen at")]
    [InlineData("ftp://127.0.0.1:8079", "the hub serves http, not ftp")]
    [InlineData("http://localhost:99999", "port 99999 is not a TCP port")]
    [InlineData("http://192.0.2.1:8079", "assign requested address")] // TEST-NET-1: on no machine's interfaces
    [InlineData("127.0.0.1 in use", "address already in use by another program")]
    [InlineData("localhost in use", "address already in use by another program")]
    [InlineData("* in use", "address already in use by another program")] // every interface, as Kestrel reads * (and +, and any host name)
    [InlineData("http://hub.opendcc.example:8079", "hub.opendcc.example is not an address to listen at")] // Kestrel: every interface
    [InlineData("http://256.1.1.1:8079", "256.1.1.1 is not an address to listen at")]
    [InlineData("http://127.0.0.1:", "no port")] // Kestrel: every interface, port 80
    [InlineData("http://127.0.0.1", "no port")]
    [InlineData("http://127.0.0.1:abc", "port abc is not a TCP port")]
    [InlineData("http://unix:/tmp/opendcc.sock", "not a URL to listen at")]
    [InlineData(";", "give at least one URL")] // Kestrel: localhost:5000
    [InlineData("https://127.0.0.1:8443", "the hub serves plain http")]
    public async Task Serve_names_urls_when_it_cannot_listen_there(string urls, string fault)
    {
        using var other = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, LoopbackPorts.Free());
        other.Start();
        if (urls.EndsWith(" in use", StringComparison.Ordinal))
        {
            urls = $"http://{urls[..^" in use".Length]}:{((System.Net.IPEndPoint)other.LocalEndpoint).Port}";
        }
        // In its own process: the host logs to the console itself, which an in-process run would not show.
        using var serve = OpenDccProcess.Start("serve", "--data", cli.DataDirectory, "--urls", urls, "--silo-port", $"{LoopbackPorts.Free()}", "--gateway-port", $"{LoopbackPorts.Free()}", "--sites", "1");
        var (code, output, error) = await serve.RunToEndAsync();
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.StartsWith(urls == ";" ? "opendcc: --urls: " : $"opendcc: --urls {urls}: ", error, StringComparison.Ordinal);
        Assert.Contains(fault, error, StringComparison.OrdinalIgnoreCase);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries)); // one line, not the host's stack trace
        // Refused before the store is opened: nothing is left in --data (no store, no keys).
        Assert.Empty(Directory.EnumerateFileSystemEntries(cli.DataDirectory));
    }

    [Theory]
    [InlineData("http://localhost:PORT;http://127.0.0.1:PORT", "http://localhost:PORT and http://127.0.0.1:PORT both listen at 127.0.0.1:PORT")]
    [InlineData("http://*:PORT;http://127.0.0.1:PORT", "http://*:PORT and http://127.0.0.1:PORT both listen at 127.0.0.1:PORT")]
    [InlineData("http://127.0.0.1:PORT;http://+:PORT", "http://127.0.0.1:PORT and http://+:PORT both listen at 127.0.0.1:PORT")]
    [InlineData("http://0.0.0.0:PORT;http://localhost:PORT", "http://0.0.0.0:PORT and http://localhost:PORT both listen at 127.0.0.1:PORT")]
    [InlineData("http://[::]:PORT;http://127.0.0.1:PORT", "http://[::]:PORT and http://127.0.0.1:PORT both listen at 127.0.0.1:PORT")]
    [InlineData("http://127.0.0.1:PORT;http://127.0.0.1:PORT", "http://127.0.0.1:PORT and http://127.0.0.1:PORT both listen at 127.0.0.1:PORT")]
    [InlineData("http://*:PORT;http://+:PORT", "http://*:PORT and http://+:PORT both listen at every interface, port PORT")]
    public async Task Serve_refuses_urls_that_would_listen_at_the_same_address_and_port_in_one_line(string urls, string clash)
    {
        var port = $"{LoopbackPorts.Free()}";
        urls = urls.Replace("PORT", port, StringComparison.Ordinal);
        // In its own process: the host logs its stack trace to the console itself, which an in-process run would not show.
        using var serve = OpenDccProcess.Start("serve", "--data", cli.DataDirectory, "--urls", urls, "--silo-port", $"{LoopbackPorts.Free()}", "--gateway-port", $"{LoopbackPorts.Free()}", "--sites", "1");
        var (code, output, error) = await serve.RunToEndAsync();
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Equal($"opendcc: --urls {urls}: {clash.Replace("PORT", port, StringComparison.Ordinal)}; give each address and port once", error.Trim());
    }

    [Fact]
    public async Task Serve_listens_at_two_addresses_on_one_port_and_at_two_free_ports()
    {
        var port = LoopbackPorts.Free();
        // Two loopback addresses (Linux answers on all of 127/8), and port 0 twice: two free ports, not one.
        using var serving = await CliRun.ServeAsync(
            ["serve", "--data", cli.DataDirectory, "--sites", "1", "--urls", $"http://127.0.0.1:{port};http://127.0.0.2:{port};http://127.0.0.1:0;http://127.0.0.1:0",
                "--silo-port", $"{LoopbackPorts.Free()}", "--gateway-port", $"{LoopbackPorts.Free()}"], cli.Clock);
        foreach (var address in new[] { "127.0.0.1", "127.0.0.2" })
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://{address}:{port}") };
            using var response = await http.GetAsync(new Uri("/health", UriKind.Relative));
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(0, await serving.StopAsync());
        Assert.Contains($"listening on http://127.0.0.1:{port}, http://127.0.0.2:{port}, http://127.0.0.1:", serving.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_refuses_a_fleet_supplier_that_is_not_a_dcc_user()
    {
        var (code, _, error) = await cli.RunWithDataAsync("serve", "--urls", $"http://127.0.0.1:{LoopbackPorts.Free()}", "--silo-port", $"{LoopbackPorts.Free()}", "--gateway-port", $"{LoopbackPorts.Free()}", "--sites", "1", "--fleet-supplier", Supplier.ToString());
        Assert.Equal(1, code);
        Assert.Contains($"--fleet-supplier: {Supplier} is not a DCC user", error, StringComparison.Ordinal);
    }

    private static X509Certificate2 Certificate(string directory, string role)
    {
        var stem = Path.Combine(directory, $"{Supplier.ToCompactString()}-{role}");
        return X509Certificate2.CreateFromPemFile(stem + ".crt.pem", stem + ".key.pem");
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
        var (code, _, error) = await cli.RunWithDataAsync("serve", "--urls", $"http://127.0.0.1:{LoopbackPorts.Free()}", "--silo-port", $"{LoopbackPorts.Free()}", "--gateway-port", $"{LoopbackPorts.Free()}", "--simulator", $"http://127.0.0.1:{LoopbackPorts.Free()}");
        Assert.Equal(1, code);
        Assert.Contains("--simulator: no WAN answers at", error, StringComparison.Ordinal);
        Assert.Contains("is 'opendcc simulate' running there?", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_refuses_sites_together_with_a_simulator()
    {
        var (code, _, error) = await cli.RunWithDataAsync("serve", "--sites", "3", "--simulator", "http://127.0.0.1:8089");
        Assert.Equal(1, code);
        Assert.Contains("--sites, --seed and --install are for the in-process fleet", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--listen", "10.1.2.3:8089", "--listen: 10.1.2.3 is not a loopback address")]
    [InlineData("--listen", "8089", "--listen: '8089' is not ADDRESS:PORT")]
    [InlineData("--loss", "1.5", "--loss must be between 0 and 1")]
    [InlineData("--latency", "-1", "--latency must be between 0")]
    [InlineData("--offline", "11", "--offline must be between 0 and --sites (10)")]
    [InlineData("--outage", "10:5", "--outage: site 10 is not in the fleet (sites 0 to 9)")]
    [InlineData("--outage", "3", "--outage: '3' is not SITE:MINUTES")]
    [InlineData("--outage", "3:0", "the power is cut for 1 second to 1,440 minutes")]
    // Minutes past the seconds a long holds, and past what a decimal holds once made seconds.
    [InlineData("--outage", "3:999999999999999999999", "the power is cut for 1 second to 1,440 minutes")]
    [InlineData("--outage", "3:79228162514264337593543950335", "the power is cut for 1 second to 1,440 minutes")]
    [InlineData("--install", "00-DB-12-34-56-78-90-A0", "--install: '00-DB-12-34-56-78-90-A0' is not EUI64=TYPE")]
    [InlineData("--install", "00-DB-12-34-56-78-90-A0=IHD", "--install: a site's ESME, GSME, CHF or GPF can answer under another ID, not its IHD")]
    [InlineData("--install", "00-DB-12-34-56-78-90=ESME", "--install: ")]
    public async Task Simulate_refuses_bad_options_naming_them(string option, string value, string fault)
    {
        var (code, _, error) = await cli.RunAsync("simulate", option, value);
        Assert.Equal(1, code);
        Assert.Contains(fault, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Simulate_says_in_one_line_that_its_port_is_in_use()
    {
        using var other = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, LoopbackPorts.Free());
        other.Start();
        var listen = other.LocalEndpoint.ToString()!;
        // In its own process: the host logs to the console itself, which an in-process run would not show.
        using var simulate = OpenDccProcess.Start("simulate", "--sites", "1", "--listen", listen);
        var (code, output, error) = await simulate.RunToEndAsync();
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Equal($"opendcc: --listen: cannot listen on {listen}: address already in use by another program (another simulator?)", error.TrimEnd());
    }

    public void Dispose() => cli.Dispose();
}

/// <summary>An <c>opendcc</c> command in a process of its own, as an operator runs it: so that it can be killed.</summary>
internal sealed class OpenDccProcess : IDisposable
{
    private readonly Process process;

    private OpenDccProcess(Process process) => this.process = process;

    public static OpenDccProcess Start(string command, params string[] args)
    {
        // Through env, which gives the command SIGINT's default handling (and then is it, the same process): Ctrl-C reaches
        // it as it does an operator's command at a terminal, even when the tests themselves run with SIGINT ignored (a
        // background job of a shell without job control), which the command would inherit and .NET respect.
        var start = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("--default-signal=INT");
        start.ArgumentList.Add("dotnet");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "opendcc.dll"));
        start.ArgumentList.Add(command);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        return new OpenDccProcess(Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start"));
    }

    /// <summary>The URL the command prints once it listens (<c>simulate</c> and <c>serve</c> both say "listening on URL").</summary>
    public async Task<string> ListeningUrlAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.Contains("listening on ", StringComparison.Ordinal))
            {
                return line.Split("listening on ")[1].Split(' ')[0];
            }
        }
        throw new InvalidOperationException($"opendcc ended: {await process.StandardError.ReadToEndAsync(timeout.Token)}");
    }

    /// <summary>Waits for the command to end: its exit code and everything it printed.</summary>
    public async Task<(int ExitCode, string Output, string Error)> RunToEndAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    /// <summary>SIGTERM, as systemd, docker or Kubernetes stop a service (SIGINT, Ctrl-C, is handled alike): the process is asked to stop.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", $"{process.Id}"]);
        kill.WaitForExit();
    }

    /// <summary>SIGINT, as Ctrl-C at the terminal sends it.</summary>
    public void Interrupt()
    {
        using var kill = Process.Start("kill", ["-INT", $"{process.Id}"]);
        kill.WaitForExit();
    }

    public bool HasExited => process.HasExited;

    /// <summary>SIGKILL, as a crash or a power cut would end it: nothing of it runs after, no clean-up.</summary>
    public void Kill()
    {
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            Kill();
        }
        process.Dispose();
    }
}
