namespace OpenDcc.Cli.Tests;

public sealed class DemoCommandTests : IDisposable
{
    private readonly CliRun cli = new();

    [Fact]
    public async Task The_demo_sends_valid_and_invalid_requests_and_shows_each_response_code_and_the_meters_supply_switched_by_critical_commands()
    {
        var data = Path.Combine(cli.DataDirectory, "demo");
        var port = FreePort();
        var (code, output, error) = await cli.RunAsync("demo", "--data", data, "--urls", $"http://127.0.0.1:{port}", "--no-wait");
        Assert.True(code == 0, error);
        foreach (var expected in new[] { "I99", "E43", "I0", "E2", "E19", "E13", "E42", "E45" })
        {
            Assert.Contains($"│ {expected} ", output, StringComparison.Ordinal);
        }
        Assert.Contains("GSME 00-DB-12-34-56-78-90-A1 Commissioned", output, StringComparison.Ordinal);
        // The critical commands reached the meter: its supply went off with the signed Disable Supply and back on with the signed Enable Supply.
        Assert.Matches(@"Enabled\s+before;\s+Disabled\s+after\s+the\s+signed\s+Disable\s+Supply", output);
        Assert.Matches(@"Enabled\s+after\s+the\s+signed\s+Enable\s+Supply", output);
        // The register read for local delivery: the command (CV 2), handed to the meter, whose answer came back with 8.13.
        Assert.Matches(@"Success: the meter's command for an installer[\s\S]*8\.13 Return Local Command Response[^│]*│[^│]*│[^│]*│ I0\s+│ Success: import register [\d,]+ Wh", output);
        // Yesterday's profile (the fake clock's 2026-11-28 is a 48-period day before it), read from the meter.
        Assert.Matches(@"4\.8\.1 from 00-DB-12-34-56-78-90-A0\s+│ I0\s+│ 48 values of 30 min, [\d,]+ Wh in all", output);
        // The firmware went to the DCC (11.1, CV 8) and on to the meter, which then reports it pending.
        Assert.Matches(@"1\.1\.0\s+pending", output);
        // The power cut, ten minutes already over by the (fake) clock's 09:00, said with its times so the past start does not look like a clock fault.
        Assert.Matches(@"Power cut at site 0 \(MPAN \d{13}\) for ten minutes, simulated as already over: off at 2026-11-28T08:45:00Z, back at\s+2026-11-28T08:55:00Z \(it is\s+2026-11-28T09:00:00Z\)", output);
        Assert.Contains("lost power at 2026-11-28T08:45:00", output, StringComparison.Ordinal);
        // The power cut: the comms hub's outage as the DCC alert AD1 to the network operator (and the supplier), the meter's restoration as its own alert.
        Assert.Matches(@"DCC alert AD1 from the DCC to DNO\s+│ I0\s+│ power outage: comms hub 00-DB-12-34-56-78-90-A2 lost power", output);
        Assert.Contains("DCC alert AD1 from the DCC to Supplier", output, StringComparison.Ordinal);
        // In the order queued, as the README tells it: the network operator's AD1 first, whichever endpoint took its copy first.
        Assert.True(output.IndexOf("DCC alert AD1 from the DCC to DNO", StringComparison.Ordinal) < output.IndexOf("DCC alert AD1 from the DCC to Supplier", StringComparison.Ordinal));
        Assert.Matches(@"device alert from 00-DB-12-34-56-78-90-A0 to DNO\s+│ I0\s+│ alert 8F36: power restored", output);
        Assert.Matches(@"Message log: [\d,]+ entries, chain intact", output);
        Assert.Matches(@"Smart grid: the network operator's aggregate voltage read[\s\S]*GSP group\s+_[A-P]", output);
        // Every part of metersAsked (answered + unreachable + noAnswer + failed + outstanding), so that they add up.
        Assert.Matches(@"(\d+) meters asked: \1 answered, 0 unreachable, 0 no answer, 0 failed, 0 outstanding", output);
        Assert.Matches(@"voltage mean 2\d\d\.\d\d V", output);
        Assert.True(File.Exists(Path.Combine(data, "opendcc.db")));
    }

    [Fact]
    public void Given_the_supplier_took_its_AD1_before_the_network_operator_When_the_demo_lists_them_Then_they_are_in_the_order_queued()
    {
        static string Message(string responseId) =>
            $"""<sr:Response xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway"><sr:Header><sr:ResponseID>{responseId}</sr:ResponseID></sr:Header></sr:Response>""";
        // As the users' endpoints took them: the supplier's copy first, then the network operator's, then a response to an earlier request.
        var ordered = DemoCommand.InQueueOrder(
        [
            Message("90-B3-D5-1F-30-00-00-02:90-B3-D5-1F-30-01-00-00:1796142278294984"),
            Message("90-B3-D5-1F-30-00-00-02:90-B3-D5-1F-30-02-00-00:1796142278294983"),
            Message("00-DB-12-34-56-78-90-A0:90-B3-D5-1F-30-01-00-00:1796142204001"),
        ]);
        Assert.Equal(
            ["1796142204001", "1796142278294983", "1796142278294984"],
            ordered.Select(doc => doc.Descendants().Single(e => e.Name.LocalName == "ResponseID").Value.Split(':')[2]));
    }

    [Fact]
    public async Task The_demo_refuses_a_data_directory_that_is_not_empty()
    {
        await File.WriteAllTextAsync(Path.Combine(cli.DataDirectory, "something"), "x");
        var (code, _, error) = await cli.RunAsync("demo", "--data", cli.DataDirectory, "--no-wait");
        Assert.Equal(1, code);
        Assert.Contains("--data: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_demo_that_cannot_listen_leaves_no_data_directory_of_its_own_behind()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        // Its directory is named for the run's (fake) clock.
        string[] Demos() => Directory.GetDirectories(Path.GetTempPath(), $"opendcc-demo-{cli.Clock.GetCurrentInstant().ToDateTimeUtc():yyyyMMddHHmmss}-*");
        var before = Demos();

        var (code, _, error) = await cli.RunAsync("demo", "--urls", $"http://127.0.0.1:{port}", "--no-wait");

        Assert.Equal(1, code);
        Assert.Contains($"127.0.0.1:{port}", error, StringComparison.Ordinal);
        Assert.Equal(before, Demos());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_demo_whose_port_is_taken_leaves_its_data_directory_as_it_was_so_it_can_be_run_again(bool exists)
    {
        var data = Path.Combine(cli.DataDirectory, "demo");
        if (exists)
        {
            Directory.CreateDirectory(data);
        }
        using (var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            taken.Start();
            var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;

            var (code, _, error) = await cli.RunAsync("demo", "--data", data, "--urls", $"http://127.0.0.1:{port}", "--no-wait");

            Assert.Equal(1, code);
            Assert.Equal($"opendcc: --urls http://127.0.0.1:{port}: 127.0.0.1:{port}: address already in use by another program (another hub, or DCC Boxed itself?)", error.Trim());
            Assert.Equal(exists, Directory.Exists(data));
            Assert.True(!exists || !Directory.EnumerateFileSystemEntries(data).Any());
        }

        // The port free again, the same command runs.
        var (again, _, againError) = await cli.RunAsync("demo", "--data", data, "--urls", $"http://127.0.0.1:{FreePort()}", "--no-wait");
        Assert.True(again == 0, againError);
    }

    private static int FreePort() => OpenDcc.Hub.LoopbackPorts.Free();

    public void Dispose() => cli.Dispose();
}
