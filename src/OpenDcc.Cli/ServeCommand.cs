using System.CommandLine;
using Microsoft.Extensions.Logging;
using NodaTime;
using OpenDcc.Core.AccessControl;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Registration;
using OpenDcc.Core.Security;
using OpenDcc.Core.Wan;
using OpenDcc.Hub;
using OpenDcc.Simulator.Devices;
using OpenDcc.Simulator.Wan;

namespace OpenDcc.Cli;

/// <summary><c>opendcc serve</c>: run the hub until stopped (Ctrl-C).</summary>
internal static class ServeCommand
{
    /// <summary>The most of an SMI status matrix file read: a row per SRV is some KB.</summary>
    private const int MaxMatrixBytes = 1024 * 1024;

    private const string PortAdvice = "(another hub? give each hub its own --silo-port and --gateway-port)";

    /// <summary>
    /// Which of the silo's ports another program holds, named as its option; checked before the hub starts, since the
    /// error Orleans gives when it cannot bind names no port.
    /// </summary>
    private static string? TakenOrleansPort(HubOptions options)
    {
        foreach (var (option, port) in new[] { ("--silo-port", options.SiloPort), ("--gateway-port", options.GatewayPort) })
        {
            if (CliContext.BindFailure(System.Net.IPAddress.Loopback, port) is not null)
            {
                return $"{option} {port}: 127.0.0.1:{port}";
            }
        }
        return null;
    }

    public static Command Create(CliContext context)
    {
        var urls = new Option<string>("--urls") { Description = $"Where to listen (default {HubOptions.DefaultUrls}, the DCC Boxed DUIS port)", DefaultValueFactory = _ => HubOptions.DefaultUrls };
        var sites = new Option<int>("--sites") { Description = "Simulated sites on the simulated WAN (each an electricity meter, a gas meter, a comms hub, a GPF and a PPMID); their devices join the inventory", DefaultValueFactory = _ => 10 };
        var seed = new Option<ulong>("--seed") { Description = "The simulated fleet's seed: the same seed gives the same devices and readings", DefaultValueFactory = _ => 1 };
        var adapters = new Option<FileInfo[]>("--adapter") { Description = "A manufacturer's translation adapter assembly to load (repeatable)", AllowMultipleArgumentsPerToken = false };
        var adapterModels = new Option<string[]>("--model-adapter") { Description = "MODEL=ADAPTER: devices of MODEL are translated by the adapter named ADAPTER (repeatable)" };
        var approvedModels = new Option<FileInfo?>("--approved-models") { Description = "CSV with the header manufacturer,model: device models added to the approved list at start (while the list is empty, any model is accepted)" };
        var statusMatrix = new Option<FileInfo?>("--smi-status-matrix") { Description = "TSV of SRV<TAB>statuses: the SMI statuses each SRV's device may have, replacing OpenDcc's own matrix" };
        var simulator = new Option<string?>("--simulator") { Description = "Reach the simulated fleet served by 'opendcc simulate' at this loopback URL (for example http://127.0.0.1:8089) instead of simulating one in this process" };
        var regionConcurrency = new Option<int>("--region-concurrency") { Description = $"Commands in flight at once per SM WAN region (default {WanOptions.Default.ConcurrencyPerRegion})", DefaultValueFactory = _ => WanOptions.Default.ConcurrencyPerRegion };
        var cellConcurrency = new Option<int>("--cell-concurrency") { Description = $"Commands in flight at once per radio cell (a comms hub's cell in the inventory), within the region's limit (default {WanOptions.Default.ConcurrencyPerCell})", DefaultValueFactory = _ => WanOptions.Default.ConcurrencyPerCell };
        var fleetSupplier = new Option<string?>("--fleet-supplier") { Description = "EUI64: the simulated registration systems register every simulated meter point to this supplier (a DCC user): its alerts go to it, and the meters hold its Digital Signing key as their trust anchor, so its critical commands work" };
        var fleetNetworkOperator = new Option<string?>("--fleet-network-operator") { Description = "EUI64: the network operator (a DCC user) of every simulated meter point's area: a comms hub's power outage (DCC alert AD1) and the meter's restoration go to it first, then to the supplier (needs --fleet-supplier)" };
        var alertsPerWindow = new Option<int>("--alerts-per-window") { Description = $"Alerts of one code from one device delivered per window; the rest are counted and the next one delivered reports them (default {AlertThrottleOptions.Default.AlertsPerWindow})", DefaultValueFactory = _ => AlertThrottleOptions.Default.AlertsPerWindow };
        var alertWindow = new Option<int>("--alert-window") { Description = $"The alert throttle's window in seconds (default {(int)AlertThrottleOptions.Default.Window.TotalSeconds})", DefaultValueFactory = _ => (int)AlertThrottleOptions.Default.Window.TotalSeconds };
        var checkpointInterval = new Option<int>("--log-checkpoint-interval") { Description = $"Seconds between signed checkpoints of the message log's head, each made only if the head moved (default {(int)HubOptions.DefaultMessageLogCheckpointInterval.TotalSeconds}); 'opendcc log verify' checks them", DefaultValueFactory = _ => (int)HubOptions.DefaultMessageLogCheckpointInterval.TotalSeconds };
        var siloPort = new Option<int>("--silo-port") { Description = "The Orleans silo-to-silo port on loopback (default 11111); give another to run a second hub on this machine", DefaultValueFactory = _ => HubOptions.DefaultSiloPort };
        var gatewayPort = new Option<int>("--gateway-port") { Description = "The Orleans client gateway port on loopback (default 30000)", DefaultValueFactory = _ => HubOptions.DefaultGatewayPort };
        var install = SimulateCommand.InstallOption();
        var serve = context.WithStoreOptions(new Command("serve", "Run the OpenDcc hub with a simulated device fleet") { urls, siloPort, gatewayPort, sites, seed, install, adapters, adapterModels, approvedModels, statusMatrix, simulator, regionConcurrency, cellConcurrency, fleetSupplier, fleetNetworkOperator, alertsPerWindow, alertWindow, checkpointInterval });
        serve.SetAction(async (parsed, ct) =>
        {
            if (parsed.GetValue(sites) is < 0 or > 1_000_000)
            {
                await context.Error.WriteLineAsync("opendcc: --sites must be between 0 and 1,000,000");
                return 1;
            }
            Uri? simulatorUrl = null;
            if (parsed.GetValue(simulator) is { } given)
            {
                if (parsed.GetResult(sites) is { Implicit: false } || parsed.GetResult(seed) is { Implicit: false } || parsed.GetValue(install) is { Length: > 0 })
                {
                    await context.Error.WriteLineAsync("opendcc: --simulator: the simulator's fleet is set where it runs ('opendcc simulate --sites N --seed S --install …'); --sites, --seed and --install are for the in-process fleet");
                    return 1;
                }
                string? fault = null;
                if (!Uri.TryCreate(given, UriKind.Absolute, out simulatorUrl) || !LoopbackWan.IsValidAddress(simulatorUrl, out fault))
                {
                    await context.Error.WriteLineAsync($"opendcc: --simulator: {fault ?? $"'{given}' is not a URL"} (for example http://127.0.0.1:8089)");
                    return 1;
                }
            }
            if (parsed.GetValue(regionConcurrency) is < 1 or > 100_000 || parsed.GetValue(cellConcurrency) is < 1 or > 100_000)
            {
                await context.Error.WriteLineAsync($"opendcc: {(parsed.GetValue(regionConcurrency) is < 1 or > 100_000 ? "--region-concurrency" : "--cell-concurrency")} must be between 1 and 100,000");
                return 1;
            }
            if (parsed.GetValue(alertsPerWindow) is < 1 or > 100_000 || parsed.GetValue(alertWindow) is < 1 or > 86_400)
            {
                await context.Error.WriteLineAsync(parsed.GetValue(alertsPerWindow) is < 1 or > 100_000 ? "opendcc: --alerts-per-window must be between 1 and 100,000" : "opendcc: --alert-window must be between 1 and 86,400 seconds");
                return 1;
            }
            if (parsed.GetValue(checkpointInterval) is < 1 or > 86_400)
            {
                await context.Error.WriteLineAsync("opendcc: --log-checkpoint-interval must be between 1 and 86,400 seconds");
                return 1;
            }
            if (parsed.GetValue(siloPort) is < 1 or > 65_535 || parsed.GetValue(gatewayPort) is < 1 or > 65_535 || parsed.GetValue(siloPort) == parsed.GetValue(gatewayPort))
            {
                await context.Error.WriteLineAsync(parsed.GetValue(siloPort) is < 1 or > 65_535
                    ? "opendcc: --silo-port must be between 1 and 65,535"
                    : parsed.GetValue(gatewayPort) is < 1 or > 65_535 ? "opendcc: --gateway-port must be between 1 and 65,535" : "opendcc: --gateway-port must differ from --silo-port");
                return 1;
            }
            // Before the store is opened (or created in --data): a hub that cannot listen there should leave nothing behind.
            if (CliContext.UrlsFault(parsed.GetRequiredValue(urls)) is { } urlsFault)
            {
                await context.Error.WriteLineAsync($"opendcc: {urlsFault}");
                return 1;
            }
            // The silo binds its ports first: Kestrel would then find its own taken, and the host log a stack trace.
            foreach (var (option, port) in new[] { ("--silo-port", parsed.GetValue(siloPort)), ("--gateway-port", parsed.GetValue(gatewayPort)) })
            {
                if (CliContext.ListensOnLoopbackPort(parsed.GetRequiredValue(urls), port) is { } url)
                {
                    await context.Error.WriteLineAsync($"opendcc: --urls {url}: port {port} is this hub's own {option} (its Orleans silo listens at 127.0.0.1:{port}); give each its own port");
                    return 1;
                }
            }
            var alertThrottle = new AlertThrottleOptions(parsed.GetValue(alertsPerWindow), Duration.FromSeconds(parsed.GetValue(alertWindow)), AlertThrottleOptions.Default.CarryFor);
            var wanOptions = WanOptions.Default with { ConcurrencyPerRegion = parsed.GetValue(regionConcurrency), ConcurrencyPerCell = parsed.GetValue(cellConcurrency) };
            MeterPointRegistration? fleetRegistration = null;
            if (parsed.GetValue(fleetSupplier) is { } supplierText)
            {
                var networkOperatorText = parsed.GetValue(fleetNetworkOperator);
                fleetRegistration = new MeterPointRegistration(
                    null,
                    null,
                    UsersCommand.ParseField("--fleet-supplier", () => Eui64.Parse(supplierText)),
                    networkOperatorText is null ? null : UsersCommand.ParseField("--fleet-network-operator", () => Eui64.Parse(networkOperatorText)));
            }
            else if (parsed.GetValue(fleetNetworkOperator) is not null)
            {
                await context.Error.WriteLineAsync("opendcc: --fleet-network-operator: needs --fleet-supplier (the meter points' registration names its supplier first)");
                return 1;
            }
            var dataDirectory = context.DataDirectory(parsed);
            IReadOnlyList<ApprovedModel> approved = [];
            var matrix = SmiStatusMatrix.Default;
            if (parsed.GetValue(statusMatrix) is { } matrixOption)
            {
                var matrixFile = CliContext.ExistingFile(matrixOption, "--smi-status-matrix");
                try
                {
                    // Read whole, up to what no matrix reaches: File.ReadLines read /dev/zero as one line until .NET gave up
                    // (an ArgumentOutOfRangeException about minimumLength, after gigabytes).
                    var bytes = Core.BoundedFile.ReadAtMost(matrixFile.FullName, MaxMatrixBytes)
                        ?? throw new FormatException($"holds more than {MaxMatrixBytes / 1024 / 1024} MiB, which no SMI status matrix does (is this the file meant?)");
                    using var text = new StreamReader(new MemoryStream(bytes));
                    matrix = SmiStatusMatrix.Parse(text.ReadToEnd().Split(["\r\n", "\n", "\r"], StringSplitOptions.None));
                }
                catch (FormatException e)
                {
                    await context.Error.WriteLineAsync($"opendcc: --smi-status-matrix: {matrixFile.FullName}: {e.Message}");
                    return 1;
                }
            }
            if (parsed.GetValue(approvedModels) is { } approvedOption)
            {
                var approvedFile = CliContext.ExistingFile(approvedOption, "--approved-models");
                try
                {
                    using var text = File.OpenText(approvedFile.FullName);
                    approved = ApprovedDeviceModels.Parse(text);
                }
                catch (FormatException e)
                {
                    await context.Error.WriteLineAsync($"opendcc: --approved-models: {approvedFile.FullName}: {e.Message}");
                    return 1;
                }
            }
            var options = new HubOptions(dataDirectory, context.PostgresConnection(parsed), parsed.GetRequiredValue(urls), parsed.GetValue(siloPort), parsed.GetValue(gatewayPort)) { ApprovedModels = approved, StatusMatrix = matrix, AlertThrottle = alertThrottle, MessageLogCheckpointInterval = Duration.FromSeconds(parsed.GetValue(checkpointInterval)) };
            var models = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var pair in parsed.GetValue(adapterModels) ?? [])
            {
                var at = pair.IndexOf('=', StringComparison.Ordinal);
                if (at <= 0 || at == pair.Length - 1)
                {
                    await context.Error.WriteLineAsync($"opendcc: --model-adapter: '{pair}' is not MODEL=ADAPTER");
                    return 1;
                }
                models[pair[..at].Trim()] = pair[(at + 1)..].Trim();
            }
            var assemblies = (parsed.GetValue(adapters) ?? []).Select(f => CliContext.ExistingFile(f, "--adapter").FullName).ToList();
            // Every option is read: what is left to go wrong is starting. A hub already serving from this directory
            // (or database) first: it would also explain the Orleans ports being taken.
            await CliContext.NamingStoreAsync(options.PostgresConnectionString, dataDirectory, async () =>
            {
                await (options.PostgresConnectionString is { } postgres
                    ? OpenDcc.Storage.OpenDccStore.RefuseIfHubServesOnPostgresAsync(postgres, ct)
                    : OpenDcc.Storage.OpenDccStore.RefuseIfHubServesAsync(dataDirectory));
                return true;
            });
            if (TakenOrleansPort(options) is { } taken)
            {
                await context.Error.WriteLineAsync($"opendcc: {taken} is in use by another program {PortAdvice}");
                return 1;
            }
            var keys = new FileKeyStore(Path.Combine(dataDirectory, "keys"));
            // The keys the adapters are given on a first start are written once every adapter has loaded: a start refused
            // for its --adapter or --model-adapter leaves the data directory as it was.
            keys.DeferWrites();
            // The devices' access control broker is the DCC, as in DCC Boxed: the EUI-64 its DUIS responses come from.
            var dcc = keys.DspIdOr(Eui64Defaults.Dsp);
            // Says on the console when the simulator goes away and when it is back.
            using var logging = LoggerFactory.Create(log => log.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
            SimulatorConnection? connection = null;
            SimulatedWorld? simulated = null;
            try
            {
                connection = simulatorUrl is null ? null : SimulatorConnection.Create(keys, dcc, simulatorUrl, wanOptions, adapterAssemblies: assemblies, adapterModels: models, logger: logging.CreateLogger<LoopbackWan>());
                simulated = connection is not null ? null : SimulatedWorld.Create(keys, dcc, new SimulatedFleet(parsed.GetValue(seed), parsed.GetValue(sites)), context.Clock, options: wanOptions, adapterAssemblies: assemblies, adapterModels: models);
                keys.WriteDeferred();
            }
            catch (Exception e) when (AdapterOptionAtFault(e, assemblies.Count > 0) is { } option)
            {
                // Only one of the two is made, and a Create that throws leaves nothing open.
                await context.Error.WriteLineAsync($"opendcc: {option}: {OpenDccCli.MessageOf(e)}");
                return 1;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException && e.Message.Contains(dataDirectory, StringComparison.Ordinal))
            {
                // The keys the devices' adapters need could not be read or written there (keys a file, a directory that
                // cannot be written, a path under /proc).
                if (connection is not null)
                {
                    await connection.DisposeAsync();
                }
                simulated?.Dispose();
                await context.Error.WriteLineAsync($"opendcc: --data {dataDirectory}: {e.Message}");
                return 1;
            }
            await using var remote = connection;
            using var world = simulated;
            if (world is not null)
            {
                SimulateCommand.Install(world.Wan, parsed.GetValue(install));
            }
            await using var app = await CliContext.NamingStoreAsync(options.PostgresConnectionString, dataDirectory, () => HubHost.BuildAsync(options, context.Clock, remote?.Devices ?? world!.Devices, ct));
            try
            {
                if (!await context.StartHubAsync(app, options.Urls, ct))
                {
                    return 1;
                }
            }
            catch (Microsoft.AspNetCore.Connections.AddressInUseException)
            {
                // One of the silo's ports, taken since the check above (Orleans' error names no port).
                await context.Error.WriteLineAsync($"opendcc: --silo-port {options.SiloPort} or --gateway-port {options.GatewayPort} is in use by another program {PortAdvice}");
                return 1;
            }
            var store = (OpenDcc.Storage.OpenDccStore)app.Services.GetService(typeof(OpenDcc.Storage.OpenDccStore))!;
            var registered = "";
            if (fleetRegistration is not null)
            {
                foreach (var (option, party) in new[] { ("--fleet-supplier", (Eui64?)fleetRegistration.Supplier), ("--fleet-network-operator", fleetRegistration.NetworkOperator) })
                {
                    if (party is { } id && await store.Parties.FindUserAsync(id, ct) is null)
                    {
                        await app.StopAsync(CancellationToken.None);
                        await context.Error.WriteLineAsync($"opendcc: {option}: {id} is not a DCC user (opendcc users add)");
                        return 1;
                    }
                }
                // Over loopback the anchors are posted when the hub connects, and again whenever it connects again.
                var registrations = remote?.Registrations ?? world!.Registrations;
                registrations.FleetRegistration = fleetRegistration;
                var placed = remote is not null
                    ? await remote.PlaceSupplierTrustAnchorsAsync(store.Parties, context.Clock.GetCurrentInstant(), ct)
                    : await world!.PlaceSupplierTrustAnchorsAsync(store.Parties, context.Clock.GetCurrentInstant(), ct);
                registered = $"; the meter points registered to supplier {fleetRegistration.Supplier}" +
                    (fleetRegistration.NetworkOperator is { } networkOperator ? $" and network operator {networkOperator}" : "") +
                    (placed > 0 ? " (the meters hold its Digital Signing key)" : " (it has no Digital Signing certificate: its critical commands will be refused by the meters)");
            }
            string fleet;
            if (remote is not null)
            {
                try
                {
                    var (summary, added) = await remote.ConnectAsync(store.Inventory, ct);
                    fleet = $"the simulator at {remote.Wan.Simulator}: {CliContext.Count(summary.Sites, "simulated site", "simulated sites")}, seed {summary.Seed} ({Added(added)})";
                }
                catch (WanUnavailableException e)
                {
                    await app.StopAsync(CancellationToken.None);
                    await context.Error.WriteLineAsync($"opendcc: --simulator: {e.Message}{(e.InnerException is HttpRequestException { StatusCode: null } ? " (is 'opendcc simulate' running there?)" : "")}");
                    return 1;
                }
            }
            else
            {
                var added = await world!.AddToInventoryAsync(store.Inventory, ct);
                fleet = $"{CliContext.Count(world.Wan.Fleet.Count, "simulated site", "simulated sites")} ({Added(added)})";
            }
            await context.Output.WriteLineAsync($"OpenDcc hub listening on {string.Join(", ", app.Urls)} (store: {store.Engine} {store.Location}); {fleet}{registered}; GET /health; Ctrl-C to stop");
            // Until Ctrl-C or SIGTERM, or until the hub stops by itself (another hub took its store).
            await Task.WhenAny(Task.Delay(Timeout.Infinite, ct), Task.Delay(Timeout.Infinite, app.Lifetime.ApplicationStopping));
            await app.StopAsync(CancellationToken.None);
            if (HubHost.LostStore(app) is { } why)
            {
                await context.Error.WriteLineAsync($"opendcc: the hub stopped: it no longer holds its store ({why})");
                return 1;
            }
            await context.Output.WriteLineAsync("OpenDcc hub stopped");
            return 0;
        });
        return serve;

        // The option a failure to set up the translation adapters comes from: an assembly that does not load, or two
        // adapters of one name (--adapter), or a model given an adapter no one is named (--model-adapter).
        static string? AdapterOptionAtFault(Exception e, bool assembliesGiven) => e switch
        {
            ArgumentException { ParamName: "models" } => "--model-adapter",
            ArgumentException { ParamName: "adapters" } or InvalidOperationException when assembliesGiven => "--adapter",
            _ => null,
        };

        static string Added(MissingDevicesAdded added) =>
            $"{CliContext.Count(added.Count, "device", "devices")} added to the inventory" + string.Concat(added.MeterPointsLeftOff.Take(5).Select(l => $"; meter {l.Device} without {l.MeterPoint.Kind} {l.MeterPoint}, which meter {l.ServedBy} serves")) +
            (added.MeterPointsLeftOff.Count > 5 ? $"; {added.MeterPointsLeftOff.Count - 5} more MPANs and MPRNs left off so" : "");
    }
}
