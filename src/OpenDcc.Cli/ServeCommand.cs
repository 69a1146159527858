using System.CommandLine;
using Microsoft.Extensions.Logging;
using OpenDcc.Core.AccessControl;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Security;
using OpenDcc.Core.Wan;
using OpenDcc.Hub;
using OpenDcc.Simulator.Devices;
using OpenDcc.Simulator.Wan;

namespace OpenDcc.Cli;

/// <summary><c>opendcc serve</c>: run the hub until stopped (Ctrl-C).</summary>
internal static class ServeCommand
{
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
        var serve = context.WithStoreOptions(new Command("serve", "Run the OpenDcc hub with a simulated device fleet") { urls, sites, seed, adapters, adapterModels, approvedModels, statusMatrix, simulator });
        serve.SetAction(async (parsed, ct) =>
        {
            if (parsed.GetValue(sites) is < 0 or > 1_000_000)
            {
                await context.Error.WriteLineAsync("--sites must be between 0 and 1,000,000");
                return 2;
            }
            Uri? simulatorUrl = null;
            if (parsed.GetValue(simulator) is { } given)
            {
                if (parsed.GetResult(sites) is { Implicit: false } || parsed.GetResult(seed) is { Implicit: false })
                {
                    await context.Error.WriteLineAsync("opendcc: --simulator: the simulator's fleet is set where it runs ('opendcc simulate --sites N --seed S'); --sites and --seed are for the in-process fleet");
                    return 1;
                }
                string? fault = null;
                if (!Uri.TryCreate(given, UriKind.Absolute, out simulatorUrl) || !LoopbackWan.IsValidAddress(simulatorUrl, out fault))
                {
                    await context.Error.WriteLineAsync($"opendcc: --simulator: {fault ?? $"'{given}' is not a URL"} (for example http://127.0.0.1:8089)");
                    return 1;
                }
            }
            var dataDirectory = context.DataDirectory(parsed);
            IReadOnlyList<ApprovedModel> approved = [];
            var matrix = SmiStatusMatrix.Default;
            if (parsed.GetValue(statusMatrix) is { } matrixFile)
            {
                if (!matrixFile.Exists)
                {
                    await context.Error.WriteLineAsync($"opendcc: --smi-status-matrix: {matrixFile.FullName}: no such file");
                    return 1;
                }
                try
                {
                    matrix = SmiStatusMatrix.Parse(File.ReadLines(matrixFile.FullName));
                }
                catch (FormatException e)
                {
                    await context.Error.WriteLineAsync($"opendcc: --smi-status-matrix: {matrixFile.Name} {e.Message}");
                    return 1;
                }
            }
            if (parsed.GetValue(approvedModels) is { } approvedFile)
            {
                if (!approvedFile.Exists)
                {
                    await context.Error.WriteLineAsync($"opendcc: --approved-models: {approvedFile.FullName}: no such file");
                    return 1;
                }
                try
                {
                    approved = ApprovedDeviceModels.Parse(File.ReadLines(approvedFile.FullName));
                }
                catch (FormatException e)
                {
                    await context.Error.WriteLineAsync($"opendcc: --approved-models: {approvedFile.Name} {e.Message}");
                    return 1;
                }
            }
            var options = new HubOptions(dataDirectory, parsed.GetValue(context.Postgres) is { Length: > 0 } pg ? pg : null, parsed.GetRequiredValue(urls)) { ApprovedModels = approved, StatusMatrix = matrix };
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
            var keys = new FileKeyStore(Path.Combine(dataDirectory, "keys"));
            var assemblies = (parsed.GetValue(adapters) ?? []).Select(f => f.FullName).ToList();
            // Says on the console when the simulator goes away and when it is back.
            using var logging = LoggerFactory.Create(log => log.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
            await using var remote = simulatorUrl is null ? null : SimulatorConnection.Create(keys, Eui64Defaults.Dsp, simulatorUrl, adapterAssemblies: assemblies, adapterModels: models, logger: logging.CreateLogger<LoopbackWan>());
            using var world = remote is not null ? null : SimulatedWorld.Create(keys, Eui64Defaults.Dsp, new SimulatedFleet(parsed.GetValue(seed), parsed.GetValue(sites)), context.Clock, adapterAssemblies: assemblies, adapterModels: models);
            await using var app = await HubHost.BuildAsync(options, context.Clock, remote?.Devices ?? world!.Devices, ct);
            await app.StartAsync(ct);
            var store = (OpenDcc.Storage.OpenDccStore)app.Services.GetService(typeof(OpenDcc.Storage.OpenDccStore))!;
            string fleet;
            if (remote is not null)
            {
                try
                {
                    var (summary, added) = await remote.ConnectAsync(store.Inventory, ct);
                    fleet = $"the simulator at {remote.Wan.Simulator}: {summary.Sites} simulated sites, seed {summary.Seed} ({added} devices added to the inventory)";
                }
                catch (WanUnavailableException e)
                {
                    await app.StopAsync(CancellationToken.None);
                    await context.Error.WriteLineAsync($"opendcc: --simulator: {e.Message} (is 'opendcc simulate' running there?)");
                    return 1;
                }
            }
            else
            {
                fleet = $"{world!.Wan.Fleet.Count} simulated sites ({await world.AddToInventoryAsync(store.Inventory, ct)} devices added to the inventory)";
            }
            await context.Output.WriteLineAsync($"OpenDcc hub listening on {string.Join(", ", app.Urls)} (store: {store.Engine} {store.Location}); {fleet}; GET /health; Ctrl-C to stop");
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
            }
            await app.StopAsync(CancellationToken.None);
            await context.Output.WriteLineAsync("OpenDcc hub stopped");
            return 0;
        });
        return serve;
    }
}
