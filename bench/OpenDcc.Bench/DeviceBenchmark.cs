using System.Diagnostics;
using System.Xml.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Text;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;
using OpenDcc.Hub;
using OpenDcc.Simulator.Devices;
using OpenDcc.Simulator.Wan;
using OpenDcc.Storage;
using Orleans.Core.Internal;
using Orleans.Runtime;

namespace OpenDcc.Bench;

/// <summary>
/// The device side of a hub, in process, on a zero-latency simulated WAN: requests handed to the gateway's
/// <see cref="IDeviceRequestHandler"/> (the step after signature, replay and access checks), queued in the device's
/// comms hub grain, translated by the device model's adapter (GBCS reference, or early smart for one site in ten),
/// protected with the ACB MAC, exchanged with the simulated meter, and its answer translated back. (a) ends there, at
/// <see cref="IDeviceResponseSink"/>, the hand-over to delivery; (b) and (c) go on through the real response sender:
/// the DSP-signed DUIS response appended to the message log and kept in the failed queue (the user has no response URL).
/// </summary>
internal static class DeviceBenchmark
{
    private const double PathTarget = 0.25;
    private static readonly Eui64 User = new(0x90B3D51F30200001UL);

    /// <summary>
    /// (a) 4.1.1 to many devices, all in flight, against as many bare calls to a trivial grain in the same run; the
    /// path ends where the device's translated answer is handed to delivery (whose signature and log entry the gateway
    /// benchmark measures). Target: device path >= 0.25 x bare grain calls.
    /// </summary>
    public static async Task<int> RunPathAsync(BenchArgs args)
    {
        await using var hub = await BenchHub.StartAsync("device-path", args.Devices, withInventory: true, endAtResponseSink: true);
        var meters = hub.Meters;
        var grains = hub.App.Services.GetRequiredService<IGrainFactory>();
        var variant = ServiceCatalogue.Duis["4.1.1"];
        Console.WriteLine($"device-path: {meters.Count} devices x one 4.1.1 each per round, {args.Rounds} rounds; {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        const int warmUpRounds = 8;
        var pathRates = new List<double>();
        var grainRates = new List<double>();
        var pathCpu = new List<double>();
        var grainCpu = new List<double>();
        ulong counter = 1;
        using var process = Process.GetCurrentProcess();
        TimeSpan Cpu()
        {
            process.Refresh();
            return process.TotalProcessorTime;
        }
        for (var round = 1 - warmUpRounds; round <= args.Rounds; round++)
        {
            var requests = meters.Select(m => Request(new RequestId(User, m.Id, counter++), variant, [])).ToList();
            Heap.Settle();
            var cpuBefore = Cpu();
            var (pathRate, outcomes) = await hub.DevicePathAsync(requests, meters);
            var pathCpuTime = Cpu() - cpuBefore;
            Heap.Settle();
            var grainCpuBefore = Cpu();
            var grainRate = await BareGrainCallsAsync(grains, meters.Count, round);
            // CPU time of this process per request: what each costs, whatever else the machine is running.
            var (pathMicros, grainMicros) = (pathCpuTime.TotalMicroseconds / meters.Count, (Cpu() - grainCpuBefore).TotalMicroseconds / meters.Count);
            var failures = outcomes.Where(o => o.Key != ResponseCode.Success.Code).Sum(o => o.Value);
            if (failures > 0)
            {
                throw new InvalidOperationException($"{failures} requests did not succeed: {string.Join(", ", outcomes.Select(o => $"{o.Key} x {o.Value}"))}");
            }
            if (round <= 0)
            {
                Console.WriteLine($"  warm-up: device path {pathRate,8:N0} req/s, bare grain calls {grainRate,9:N0} calls/s (not counted)");
                continue;
            }
            pathRates.Add(pathRate);
            grainRates.Add(grainRate);
            pathCpu.Add(pathMicros);
            grainCpu.Add(grainMicros);
            Console.WriteLine($"  round {round}: device path {pathRate,8:N0} req/s ({pathMicros,5:F1} µs CPU each)   bare grain calls {grainRate,9:N0} calls/s ({grainMicros,4:F1} µs CPU each)   ratio {pathRate / grainRate:F3}");
        }
        Console.WriteLine($"device-path: CPU per request {Median(pathCpu):F1} µs, per bare grain call {Median(grainCpu):F1} µs: CPU ratio {Median(grainCpu) / Median(pathCpu):F3}");
        var ratio = Median(pathRates) / Median(grainRates);
        Console.WriteLine($"device-path: {Median(pathRates):N0} req/s through comms hub grains, adapters, ACB MAC and the simulated WAN to the answer handed to delivery; bare grain calls {Median(grainRates):N0} calls/s; ratio {ratio:F3} (target >= {PathTarget:F2}: {(ratio >= PathTarget ? "met" : "NOT met")})");
        return ratio >= PathTarget ? 0 : 2;
    }

    /// <summary>
    /// (b) The managed heap a device costs while its grain is active, and once it has been deactivated.
    /// Target: an idle device costs nothing (about 0 bytes).
    /// </summary>
    public static async Task<int> RunMemoryAsync(BenchArgs args)
    {
        // The fleet in a process of its own: the heap measured is the hub's alone.
        await using var hub = await BenchHub.StartAsync("device-memory", args.Devices, withInventory: true, endAtResponseSink: false, separateSimulator: true);
        var meters = hub.Meters;
        var grains = hub.App.Services.GetRequiredService<IGrainFactory>();
        var management = grains.GetGrain<IManagementGrain>(0);
        var variant = ServiceCatalogue.Duis["4.1.1"];
        Console.WriteLine($"device-memory: {meters.Count} devices (their simulator in a process of its own, over loopback), one 4.1.1 each through the device path; {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        ulong counter = 1;
        // A fifth of the fleet is read and let go before the baseline, so that the pools and tables a busy hub keeps
        // (HTTP/2 and SQLite buffers, Orleans' tables) are in place and not counted against the devices.
        var warmUp = meters.Take(meters.Count / 5).ToList();
        await hub.DevicePathAsync([.. warmUp.Select(m => Request(new RequestId(User, m.Id, counter++), variant, []))], warmUp);
        await DeactivateAsync(grains, management, warmUp);
        meters = [.. meters.Skip(warmUp.Count)];
        var (before, baselineSpread) = await AtRestHeapBytesAsync();

        // The rest of the fleet in two halves. Pass 1 reads half A and lets every grain go: what it leaves is capacity the runtime
        // keeps for having had that many devices active at once (dictionaries do not shrink), not a cost per idle
        // device. Pass 2 reads half B, devices never contacted before, and pass 3 half A again: what they leave, per
        // device, is what an idle device costs the DCC, first contact included. Each idle reading is taken at rest
        // (AtRestHeapBytesAsync).
        var halves = new[] { meters.Take(meters.Count / 2).ToList(), meters.Skip(meters.Count / 2).ToList() };
        var idleBefore = before;
        double activePerDevice = 0, peakCapacity = 0, worstIdle = double.MinValue;
        var spread = baselineSpread;
        var afterCapacity = before;
        for (var pass = 1; pass <= 3; pass++)
        {
            var group = halves[pass == 2 ? 1 : 0];
            await hub.DevicePathAsync([.. group.Select(m => Request(new RequestId(User, m.Id, counter++), variant, []))], group);
            var active = HeapBytes();
            var activeActivations = await management.GetTotalActivationCount();
            await DeactivateAsync(grains, management, group);
            var (idle, idleSpread) = await AtRestHeapBytesAsync();
            spread = Math.Max(spread, idleSpread);
            var idleActivations = await management.GetTotalActivationCount();
            activePerDevice = (double)(active - idleBefore) / group.Count;
            var idlePerDevice = (double)(idle - idleBefore) / group.Count;
            var what = pass switch { 1 => "half A, first contact", 2 => "half B, first contact", _ => "half A again" };
            Console.WriteLine($"  pass {pass} ({what}): active {activePerDevice,7:N0} B/device ({activeActivations:N0} activations); deactivated {idlePerDevice,7:N0} B/device ({idleActivations:N0} activations)");
            if (pass == 1)
            {
                peakCapacity = idlePerDevice;
                afterCapacity = idle;
            }
            else
            {
                worstIdle = Math.Max(worstIdle, idlePerDevice);
            }
            idleBefore = idle;
        }
        // The verdict: what passes 2 and 3 left together, over the devices they contacted, so that what the heap holds
        // apart from devices (pools, and tables that grew for a higher peak than pass 1's; a few MiB) weighs half as
        // much per device as in either pass's figure.
        var contacted = meters.Count; // half B in pass 2, half A in pass 3
        var idleOverall = (double)(idleBefore - afterCapacity) / contacted;
        Console.WriteLine($"  heap at rest: before any device {before / 1024.0 / 1024:F1} MiB, after pass 1 {afterCapacity / 1024.0 / 1024:F1} MiB, after pass 3 {idleBefore / 1024.0 / 1024:F1} MiB: {idleOverall:N0} B per device contacted in passes 2 and 3, all idle again (the readings within one rest varied by up to {spread / 1024.0:N0} KiB, {(double)spread / contacted:N0} B per device)");
        // "About nothing": under 1% of an active device, or under 16 bytes, whichever is larger (GC noise).
        var met = idleOverall <= Math.Max(16, activePerDevice * 0.01);
        Console.WriteLine($"device-memory: active device {activePerDevice:N0} B; idle device {idleOverall:N0} B over passes 2 and 3 (target ~0: {(met ? "met" : "NOT met")}), {worstIdle:N0} B in the worst pass; the runtime keeps {peakCapacity:N0} B per device of the peak number active at once (table capacity)");
        return met ? 0 : 2;
    }

    /// <summary>
    /// (c) Every site's electricity meter read once with 4.8.1 for the previous settlement day (Europe/London),
    /// first touch of every device, at most a window of requests outstanding.
    /// </summary>
    public static async Task<int> RunFleetReadAsync(BenchArgs args)
    {
        var setup = Stopwatch.StartNew();
        // The device path takes the device from the caller (the gateway looked it up): no inventory rows needed.
        await using var hub = await BenchHub.StartAsync("fleet-read", args.Sites, withInventory: false, endAtResponseSink: false);
        var meters = hub.Meters;
        var variant = ServiceCatalogue.Duis["4.8.1"];
        var zone = DateTimeZoneProviders.Tzdb["Europe/London"];
        var today = hub.Clock.GetCurrentInstant().InZone(zone).Date;
        var from = InstantPattern.ExtendedIso.Format(today.PlusDays(-1).AtStartOfDayInZone(zone).ToInstant());
        var to = InstantPattern.ExtendedIso.Format(today.AtStartOfDayInZone(zone).ToInstant());
        XElement Period() => new(DuisNamespaces.Sr + "ReadLogPeriod", new XElement(DuisNamespaces.Sr + "StartDateTime", from), new XElement(DuisNamespaces.Sr + "EndDateTime", to));
        Console.WriteLine($"fleet-read: {meters.Count:N0} sites, one 4.8.1 ({from} to {to}) each; set-up {setup.Elapsed.TotalSeconds:F1} s; {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        ulong counter = 1;
        var requests = meters.Select(m => Request(new RequestId(User, m.Id, counter++), variant, [Period()])).ToList();
        var (rate, outcomes) = await hub.DevicePathAsync(requests, meters, window: 20_000, progress: true);
        var succeeded = outcomes.GetValueOrDefault(ResponseCode.Success.Code);
        Console.WriteLine($"fleet-read: {meters.Count:N0} reads in {meters.Count / rate:F1} s, {rate:N0} reads/s; outcomes {string.Join(", ", outcomes.Select(o => $"{o.Key} x {o.Value:N0}"))}");
        return succeeded == meters.Count ? 0 : 2;
    }

    private static async Task<double> BareGrainCallsAsync(IGrainFactory grains, int count, int round)
    {
        var watch = Stopwatch.StartNew();
        var answers = await Task.WhenAll(Enumerable.Range(0, count).Select(i => grains.GetGrain<IPingGrain>(i).PingAsync(round)));
        var rate = count / watch.Elapsed.TotalSeconds;
        return answers.All(a => a == round + 1) ? rate : throw new InvalidOperationException("a ping grain answered wrongly");
    }

    /// <summary>Asks the silo to collect every idle activation now, then any device grain still active to deactivate.</summary>
    private static async Task DeactivateAsync(IGrainFactory grains, IManagementGrain management, IReadOnlyList<Device> meters)
    {
        await management.ForceActivationCollection(TimeSpan.Zero);
        // A device grain delays its own deactivation while it works (DelayDeactivation); collection may pass it by.
        await Task.WhenAll(meters.Select(m => grains.GetGrain<OpenDcc.Hub.Grains.ICommsHubGrain>(OpenDcc.Hub.Grains.ICommsHubGrain.KeyOf(m.CommsHub ?? m.Id)).Cast<IGrainManagementExtension>().DeactivateOnIdle().AsTask()));
        await management.ForceActivationCollection(TimeSpan.Zero);
        await Task.Delay(TimeSpan.FromSeconds(1));
    }

    /// <summary>
    /// The live heap of the hub at rest, and how much the readings varied: the least of <see cref="HeapBytes"/> read every
    /// 5 s for 30 s. Once work stops, pools (ArrayPool.Shared, Orleans' response pools) let their idle buffers go in
    /// steps over the next minute, megabytes in all: a reading taken at once would compare pools in one state with
    /// pools in another, several hundred bytes per device at 10,000 devices.
    /// </summary>
    private static async Task<(long Bytes, long Spread)> AtRestHeapBytesAsync()
    {
        var readings = new List<long> { HeapBytes() };
        for (var i = 0; i < 6; i++)
        {
            await Task.Delay(TimeSpan.FromSeconds(5));
            readings.Add(HeapBytes());
        }
        return (readings.Min(), readings.Max() - readings.Min());
    }

    /// <summary>
    /// Bytes of live objects after full compacting collections: the heap's size less its free space (pinned buffers
    /// of sockets and pools leave gaps a compaction cannot close, which the heap's size would count).
    /// </summary>
    private static long HeapBytes()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        var info = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        return info.HeapSizeBytes - info.FragmentedBytes;
    }

    private static DuisRequest Request(RequestId id, ServiceReferenceVariant variant, XElement[] content) =>
        new(id, 1, variant, DuisResponse.DefaultSchemaVersion, null, null, new XElement(DuisNamespaces.Sr + variant.BodyElement, content));

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    /// <summary>A hub on a temporary data directory with a simulated fleet, one DCC user (no response URL), started.</summary>
    private sealed class BenchHub : IAsyncDisposable
    {
        private readonly string directory;
        private readonly SimulatedWorld? world;
        private readonly SimulatorProcess? simulator;
        private readonly SimulatorConnection? connection;
        private readonly IMessageLog log;
        private readonly IDeviceRequestHandler handler;
        private readonly DccUser user;
        private readonly CountingResponseSink? sink;

        private BenchHub(string directory, SimulatedWorld? world, SimulatorProcess? simulator, SimulatorConnection? connection, WebApplication app, IClock clock, DccUser user, CountingResponseSink? sink, List<Device> meters)
        {
            this.directory = directory;
            this.world = world;
            this.simulator = simulator;
            this.connection = connection;
            this.user = user;
            this.sink = sink;
            App = app;
            Clock = clock;
            Meters = meters;
            log = app.Services.GetRequiredService<IMessageLog>();
            handler = app.Services.GetRequiredService<IDeviceRequestHandler>();
        }

        public WebApplication App { get; }

        public IClock Clock { get; }

        /// <summary>Each site's electricity meter, as the inventory holds it (or would: the fleet-read hub has no inventory).</summary>
        public List<Device> Meters { get; }

        /// <param name="endAtResponseSink">Whether requests end where their answers are handed to delivery (counted, not signed or logged).</param>
        /// <param name="separateSimulator">Whether the simulated fleet runs in a process of its own, reached over loopback
        /// as <c>serve --simulator</c> reaches it (its devices then join the inventory), instead of in this one.</param>
        public static async Task<BenchHub> StartAsync(string name, int sites, bool withInventory, bool endAtResponseSink, bool separateSimulator = false)
        {
            IClock clock = SystemClock.Instance;
            var directory = Path.Combine(Path.GetTempPath(), $"opendcc-bench-{name}-" + Guid.NewGuid().ToString("N"));
            var keys = new FileKeyStore(Path.Combine(directory, "keys"));
            var simulator = separateSimulator ? await SimulatorProcess.StartAsync(sites) : null;
            var connection = simulator is null ? null : SimulatorConnection.Create(keys, Eui64Defaults.Dsp, simulator.Url);
            var world = simulator is not null ? null : SimulatedWorld.Create(keys, Eui64Defaults.Dsp, new SimulatedFleet(seed: 1, siteCount: sites), clock, SimulatedWanOptions.Instant);
            var sink = endAtResponseSink ? new CountingResponseSink() : null;
            var app = await HubHost.BuildAsync(
                new HubOptions(directory, Urls: $"http://127.0.0.1:{LoopbackPorts.Free()}", SiloPort: LoopbackPorts.Free(), GatewayPort: LoopbackPorts.Free()),
                clock,
                connection?.Devices ?? world!.Devices,
                configureServices: sink is null ? null : services => services.AddSingleton<IDeviceResponseSink>(sink));
            await app.StartAsync();
            var store = app.Services.GetRequiredService<OpenDccStore>();
            List<Device> meters;
            if (connection is not null)
            {
                await connection.ConnectAsync(store.Inventory);
                meters = [.. (await store.Inventory.ListDevicesAsync()).Where(d => d.Type == DeviceType.ESME)];
            }
            else
            {
                if (withInventory)
                {
                    await world!.AddToInventoryAsync(store.Inventory);
                }
                meters = [.. world!.Wan.InventoryDevices().Where(d => d.Type == DeviceType.ESME)];
            }
            var user = new DccUser(User, "Bench Supplier", DccUserRole.ImportSupplier);
            await store.Parties.AddUserAsync(user);
            return new BenchHub(directory, world, simulator, connection, app, clock, user, sink, meters);
        }

        /// <summary>
        /// Submits the requests (request i to device i), keeping at most <paramref name="window"/> without a response,
        /// and waits until every response is at the end of the path (handed to the sink, or in the message log).
        /// Returns requests per second and the responses' codes.
        /// </summary>
        public async Task<(double Rate, Dictionary<string, int> Outcomes)> DevicePathAsync(IReadOnlyList<DuisRequest> requests, IReadOnlyList<Device> devices, int window = int.MaxValue, bool progress = false)
        {
            if (sink is not null)
            {
                sink.Reset();
            }
            var start = sink is null ? (await log.ReadHeadAsync())?.Sequence ?? 0 : 0;
            var watch = Stopwatch.StartNew();
            var lastReport = TimeSpan.Zero;
            const int chunk = 2_000;
            for (var offset = 0; offset < requests.Count; offset += chunk)
            {
                // Back-pressure: a fleet-wide read is paced by the responses, as a head-end's scheduler would pace it.
                var done = await WaitForLogAsync(start + offset - window);
                if (progress && watch.Elapsed - lastReport > TimeSpan.FromSeconds(10))
                {
                    lastReport = watch.Elapsed;
                    Console.WriteLine($"  {watch.Elapsed.TotalSeconds,6:F0} s: {done - start,9:N0} done, {(done - start) / watch.Elapsed.TotalSeconds,7:N0} /s");
                }
                await Task.WhenAll(Enumerable.Range(offset, Math.Min(chunk, requests.Count - offset)).Select(async i =>
                {
                    var prepared = (await handler.PrepareAsync(requests[i], user, [devices[i]])).Single();
                    if (prepared.Refusal is { } refusal)
                    {
                        throw new InvalidOperationException($"refused: {refusal.Code} {refusal.Reason}");
                    }
                    await handler.QueueAsync(prepared.Command!);
                }));
            }
            await WaitForLogAsync(start + requests.Count);
            var rate = requests.Count / watch.Elapsed.TotalSeconds;
            if (sink is not null)
            {
                return (rate, sink.Outcomes());
            }
            var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
            await foreach (var entry in log.ReadAsync(start + 1))
            {
                var code = entry.Record.Outcome.Split(' ')[0];
                outcomes[code] = outcomes.GetValueOrDefault(code) + 1;
            }
            return (rate, outcomes);
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await App.StopAsync();
                await App.DisposeAsync();
            }
            finally
            {
                world?.Dispose();
                if (connection is not null)
                {
                    await connection.DisposeAsync();
                }
                simulator?.Dispose();
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                Directory.Delete(directory, recursive: true);
            }
        }

        /// <summary>Waits until <paramref name="target"/> responses are at the end of the path (the sink's count, or the message log's head).</summary>
        private Task<long> WaitForLogAsync(long target) =>
            Progress.WaitForAsync(async () => sink?.Count ?? (await log.ReadHeadAsync())?.Sequence ?? 0, target, TimeSpan.FromMinutes(2), "the message log");
    }
}

/// <summary>The end of the measured device path: counts the outcomes handed to delivery, by response code.</summary>
internal sealed class CountingResponseSink : IDeviceResponseSink
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> codes = new(StringComparer.Ordinal);
    private long count;

    public long Count => Interlocked.Read(ref count);

    public Task SendAsync(DeviceRequestReference request, string code, ResponsePayload payload, Eui64 user, DeviceAnswerRoute route, string? reason = null, CancellationToken cancellationToken = default)
    {
        if (code == ResponseCode.Success.Code && payload is not ResponsePayload.GbcsPayload { Bytes.Length: > 0 })
        {
            // An I0 to a read must carry what the device said.
            code = "I0 without the device's payload";
        }
        codes.AddOrUpdate(code, 1, (_, n) => n + 1);
        Interlocked.Increment(ref count);
        return Task.CompletedTask;
    }

    public void Reset()
    {
        codes.Clear();
        Interlocked.Exchange(ref count, 0);
    }

    public Dictionary<string, int> Outcomes() => new(codes, StringComparer.Ordinal);
}

/// <summary>The baseline of the device path: a bare grain call, nothing stored, nothing awaited inside.</summary>
internal interface IPingGrain : IGrainWithIntegerKey
{
    Task<int> PingAsync(int value);
}

internal sealed class PingGrain : Grain, IPingGrain
{
    public Task<int> PingAsync(int value) => Task.FromResult(value + 1);
}
