using System.CommandLine;
using System.Globalization;
using System.Net;
using NodaTime;
using OpenDcc.Simulator.Devices;
using OpenDcc.Simulator.Wan;

namespace OpenDcc.Cli;

/// <summary><c>opendcc simulate</c>: the simulated fleet and SM WAN in a process of their own, served on loopback to a hub (<c>serve --simulator</c>) until stopped.</summary>
internal static class SimulateCommand
{
    public const string DefaultListen = "127.0.0.1:8089";

    /// <summary><c>--install EUI64=TYPE</c> (repeatable), for <c>simulate</c> and <c>serve</c>'s own fleet: <see cref="SimulatedWan.InstallSiteDevice"/>.</summary>
    public static Option<string[]> InstallOption() => new("--install")
    {
        Description = "EUI64=ESME|GSME|CHF|GPF: site 0's electricity meter, gas meter, comms hub or gas proxy function answers under EUI64 too, and it joins the inventory " +
            "(repeatable), for devices known by other IDs: the DCC Boxed reference test devices, so that the RTDS request templates reach a simulated device unchanged",
    };

    /// <summary>Installs each <c>--install</c> on the WAN; a fault names the option and the value.</summary>
    public static void Install(SimulatedWan wan, string[]? given)
    {
        foreach (var value in given ?? [])
        {
            UsersCommand.ParseField("--install", () =>
            {
                var at = value.IndexOf('=', StringComparison.Ordinal);
                if (at <= 0)
                {
                    throw new FormatException($"'{value}' is not EUI64=TYPE (for example 00-DB-12-34-56-78-90-A0=ESME)");
                }
                wan.InstallSiteDevice(Core.Identifiers.Eui64.Parse(value[..at].Trim()), Core.Inventory.DeviceTypes.Parse(value[(at + 1)..].Trim()));
                return true;
            });
        }
    }

    public static Command Create(CliContext context)
    {
        var sites = new Option<int>("--sites") { Description = "Simulated sites (each an electricity meter, a gas meter, a comms hub, a GPF and a PPMID)", DefaultValueFactory = _ => 10 };
        var seed = new Option<ulong>("--seed") { Description = "The fleet's seed: the same seed gives the same devices, keys and readings", DefaultValueFactory = _ => 1 };
        var listen = new Option<string>("--listen") { Description = $"Loopback address and port to serve the WAN on (default {DefaultListen}; port 0: any free port)", DefaultValueFactory = _ => DefaultListen };
        var latency = new Option<int>("--latency") { Description = "Milliseconds every exchange with a device takes (default 0)" };
        var loss = new Option<double>("--loss") { Description = "Share of commands the WAN loses, 0 to 1 (default 0): a lost command is never answered" };
        var offline = new Option<int>("--offline") { Description = "Sites whose comms hubs are offline, chosen from the seed (default 0)" };
        var outage = new Option<string[]>("--outage") { Description = "SITE:MINUTES: once a hub has connected, cut site SITE's power for MINUTES (a decimal: 0.5 is 30 s); its comms hub reports the loss of power at once and its electricity meter the restoration when power returns (repeatable)" };
        var install = InstallOption();
        var simulate = new Command("simulate", "Run the simulated device fleet and SM WAN in their own process, for 'serve --simulator'") { sites, seed, listen, latency, loss, offline, outage, install };
        simulate.SetAction(async (parsed, ct) =>
        {
            var siteCount = parsed.GetValue(sites);
            if (siteCount is < 0 or > 1_000_000)
            {
                await context.Error.WriteLineAsync("opendcc: --sites must be between 0 and 1,000,000");
                return 1;
            }
            if (!IPEndPoint.TryParse(parsed.GetRequiredValue(listen), out var endpoint) || !parsed.GetRequiredValue(listen).Contains(':', StringComparison.Ordinal))
            {
                await context.Error.WriteLineAsync($"opendcc: --listen: '{parsed.GetRequiredValue(listen)}' is not ADDRESS:PORT (for example {DefaultListen})");
                return 1;
            }
            if (!IPAddress.IsLoopback(endpoint.Address))
            {
                await context.Error.WriteLineAsync($"opendcc: --listen: {endpoint.Address} is not a loopback address (the simulated WAN has no TLS and no authentication)");
                return 1;
            }
            // Checked before the host starts, whose own log would print a stack trace for it.
            if (endpoint.Port != 0 && CliContext.BindFailure(endpoint.Address, endpoint.Port) is { } failure)
            {
                await context.Error.WriteLineAsync($"opendcc: --listen: cannot listen on {endpoint}: {(failure.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse ? "address already in use by another program (another simulator?)" : failure.Message)}");
                return 1;
            }
            if (parsed.GetValue(latency) is < 0 or > 600_000)
            {
                await context.Error.WriteLineAsync("opendcc: --latency must be between 0 and 600,000 ms");
                return 1;
            }
            if (parsed.GetValue(loss) is not (>= 0 and <= 1))
            {
                await context.Error.WriteLineAsync("opendcc: --loss must be between 0 and 1 (the share of commands lost)");
                return 1;
            }
            if (parsed.GetValue(offline) is var offlineCount && (offlineCount < 0 || offlineCount > siteCount))
            {
                await context.Error.WriteLineAsync($"opendcc: --offline must be between 0 and --sites ({siteCount})");
                return 1;
            }
            var cuts = new List<(int Site, Duration Length)>();
            foreach (var given in parsed.GetValue(outage) ?? [])
            {
                var at = given.IndexOf(':', StringComparison.Ordinal);
                if (at <= 0
                    || !int.TryParse(given.AsSpan(0, at), NumberStyles.None, CultureInfo.InvariantCulture, out var site)
                    || !decimal.TryParse(given.AsSpan(at + 1), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var minutes))
                {
                    await context.Error.WriteLineAsync($"opendcc: --outage: '{given}' is not SITE:MINUTES (for example 3:10)");
                    return 1;
                }
                if (site >= siteCount)
                {
                    await context.Error.WriteLineAsync($"opendcc: --outage: site {site} is not in the fleet (sites 0 to {siteCount - 1})");
                    return 1;
                }
                // Checked in minutes first: a number of them past 1,440 would overflow a decimal (×60) or a long of seconds.
                var length = minutes <= 1_440 ? Duration.FromSeconds((long)Math.Round(minutes * 60)) : Duration.MaxValue;
                if (length < Duration.FromSeconds(1) || length > Duration.FromDays(1))
                {
                    await context.Error.WriteLineAsync($"opendcc: --outage: '{given}': the power is cut for 1 second to 1,440 minutes");
                    return 1;
                }
                cuts.Add((site, length));
            }
            var fleet = new SimulatedFleet(parsed.GetValue(seed), siteCount);
            using var wan = new SimulatedWan(fleet, context.Clock, new SimulatedWanOptions(Duration.FromMilliseconds(parsed.GetValue(latency)), (int)Math.Round(parsed.GetValue(loss) * 1000)), SimulatedWorld.FormatOf);
            foreach (var site in fleet.OfflineSites(offlineCount))
            {
                wan.SetOffline(site, true);
            }
            Install(wan, parsed.GetValue(install));
            SimulatorHost host;
            try
            {
                host = await SimulatorHost.StartAsync(wan, endpoint, ct);
            }
            catch (IOException e)
            {
                await context.Error.WriteLineAsync($"opendcc: --listen: cannot listen on {endpoint}: {e.Message}");
                return 1;
            }
            await using (host)
            {
                var earlySmart = fleet.Sites.Count(site => SimulatedWorld.FormatOf(site) == WireFormat.EarlySmart);
                await context.Output.WriteLineAsync(
                    $"OpenDcc simulator listening on {host.Url.ToString().TrimEnd('/')} (HTTP/2, loopback): {CliContext.Count(fleet.Count, "simulated site", "simulated sites")}, {fleet.Count * 5} devices " +
                    $"({CliContext.Count(fleet.Count - earlySmart, "site", "sites")} GBCS, {earlySmart} early smart; {offlineCount} offline), seed {fleet.Seed}; " +
                    $"run 'opendcc serve --simulator {host.Url.ToString().TrimEnd('/')}'; Ctrl-C to stop");
                var cutting = CutPowerOnceConnectedAsync(context, host, cuts, ct);
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                }
                await cutting;
            }
            await context.Output.WriteLineAsync("OpenDcc simulator stopped");
            return 0;
        });
        return simulate;
    }

    /// <summary>The power cuts asked for at start, once a hub listens for alerts (before that no one would hear them).</summary>
    private static async Task CutPowerOnceConnectedAsync(CliContext context, SimulatorHost host, List<(int Site, Duration Length)> cuts, CancellationToken ct)
    {
        if (cuts.Count == 0)
        {
            return;
        }
        try
        {
            await host.HubListening.WaitAsync(ct);
            await Task.WhenAll(cuts.Select(async cut =>
            {
                var meter = host.Wan.Fleet[cut.Site].ElectricityMeter.Id;
                await context.Output.WriteLineAsync($"Power cut at site {cut.Site} for {cut.Length.TotalMinutes:0.##} minutes: comms hub {host.Wan.Fleet[cut.Site].CommsHubId} reports the loss of power");
                await host.CutPowerAsync(cut.Site, cut.Length).WaitAsync(ct);
                if (!ct.IsCancellationRequested)
                {
                    await context.Output.WriteLineAsync($"Power back at site {cut.Site}: meter {meter} reports the restoration");
                }
            }));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }
}
