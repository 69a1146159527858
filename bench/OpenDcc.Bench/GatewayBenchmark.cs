using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime;
using System.Security.Cryptography.X509Certificates;
using System.Xml;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
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

namespace OpenDcc.Bench;

/// <summary>
/// Signed 4.1.1 requests through the real HTTP endpoint of a hub (Kestrel, Orleans silo, SQLite or PostgreSQL, message log,
/// replay grain, access control, I99 signed by the DSP, the asynchronous I0 signed and queued), against the bare
/// cryptography each request needs (verify the request: canonicalise and ECDSA-verify; sign the response:
/// canonicalise and ECDSA-sign) run on all cores in the same process. Target (issue 3): gateway >= 0.5 x crypto.
/// For comparison, not the target: the same bound with each request's I0 signed as well (what a 4.1.1 needs end to end).
/// A round's rate and CPU run until its device side is done (every I0 logged, and delivered with response URLs); its
/// latencies are the I99's. Each round also runs the same requests against three reference endpoints
/// (<see cref="ExchangeReferences"/>), which split the gateway's CPU into the HTTP exchange, the bound's work over it, the I0's signature
/// and the rest.
/// </summary>
internal static class GatewayBenchmark
{
    /// <summary>On SQLite (the embedded default) and, with <c>--postgres</c>, then on a throw-away database there (the production store).</summary>
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var met = await RunOnAsync(args, postgres: null);
        if (args.Postgres is not null)
        {
            await using var database = await BenchDatabase.CreateAsync(args.Postgres);
            met &= await RunOnAsync(args, database.ConnectionString);
        }
        return met ? 0 : 2;
    }

    /// <returns>Whether the target is met.</returns>
    private static async Task<bool> RunOnAsync(BenchArgs args, string? postgres)
    {
        var engine = postgres is null ? "sqlite" : "postgres";
        var clock = SystemClock.Instance;
        var directory = Path.Combine(Path.GetTempPath(), "opendcc-bench-gateway-" + Guid.NewGuid().ToString("N"));
        var port = FreePort();
        // Each user reads its own simulated meter (site u of the fleet), so device queues do not serialise the run.
        using var world = SimulatedWorld.Create(new FileKeyStore(Path.Combine(directory, "keys")), Eui64Defaults.Dsp, new SimulatedFleet(seed: 1, siteCount: args.Users), clock);
        await using var app = await HubHost.BuildAsync(new HubOptions(directory, PostgresConnectionString: postgres, Urls: $"http://127.0.0.1:{port}", SiloPort: FreePort(), GatewayPort: FreePort()), clock, world.Devices);
        await app.StartAsync();
        try
        {
            var store = app.Services.GetRequiredService<OpenDccStore>();
            await world.AddToInventoryAsync(store.Inventory);
            // With --response-urls yes, each user's system takes its responses as DCC Boxed's tooling does, on loopback: each
            // user's on an endpoint (port) of its own, so that the hub's cap on connections to one endpoint
            // (DeliveryOptions.MaxConnectionsPerEndpoint) is each user's, as in service, not all the users' together.
            await using var receiver = args.ResponseUrls ? await ResponseReceiver.StartAsync(endpoints: args.Users) : null;
            using var ca = new FileKeyStore(Path.Combine(directory, "keys")).LoadLocalCa();
            var users = new List<(Eui64 Id, X509Certificate2 Key)>();
            for (var u = 0; u < args.Users; u++)
            {
                var id = new Eui64(0x90B3D51F30100000UL + (ulong)u);
                // By default no response URL: the asynchronous I0 is still built, signed and logged (undeliverable), and kept in
                // the failed queue, but not posted anywhere. With one, it is queued, posted and its delivery logged.
                await store.Parties.AddUserAsync(new DccUser(id, $"Bench Supplier {u}", DccUserRole.ImportSupplier, responseUrl: receiver?.Urls[u]));
                var key = ca.Issue(id, RemotePartyRole.XmlSign, null, clock, Duration.FromDays(30));
                await store.Parties.AddCertificateAsync(OrganisationCertificate.FromX509(key));
                users.Add((id, key));
            }
            var variant = ServiceCatalogue.Duis["4.1.1"];
            Console.WriteLine($"gateway ({engine}): {args.Users} users x {args.RequestsPerUser} signed 4.1.1 requests, {args.Rounds} rounds; {Environment.ProcessorCount} cores, .NET {Environment.Version}; " +
                (receiver is null ? "the users have no response URL (each I0 held in the failed queue)" : $"each user its own response URL on loopback ({receiver.Urls[0]} and {receiver.Urls.Count - 1} other ports; each I0 posted there, the round waits for every delivery)"));
            var recordsPerRequest = receiver is null ? RecordsPerRequest : RecordsPerRequestDelivered;

            using var dsp = new FileKeyStore(Path.Combine(directory, "keys")).LoadDspIdentity();
            // One connection per user, as each user's system would hold one.
            var connections = await Task.WhenAll(users.Select(_ => LeanHttpClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), "/api/v1/serviceS")));
            await using var references = await ExchangeReferences.StartAsync(app.Services.GetRequiredService<DuisMessageSecurity>(), clock, users.Count);
            ulong counter = 1;
            var gatewayRates = new List<double>();
            var cryptoRates = new List<double>();
            var p50s = new List<double>();
            var p99s = new List<double>();
            var gatewayCpus = new List<double>();
            var writerCpus = new List<double>();
            var cryptoCpus = new List<double>();
            var endToEndRates = new List<double>();
            var signingKeys = users.Select(u => XmlSignatureKey.ForSigning(u.Key)).ToList();
            // A round's requests are all signed, on all cores, before its clock starts: the users' signing is their cost,
            // not the hub's, and the heap is settled after it.
            List<List<byte[]>> SignRound()
            {
                var first = counter;
                counter += (ulong)(users.Count * args.RequestsPerUser);
                return users.AsParallel().AsOrdered().Select((u, i) => Enumerable.Range(0, args.RequestsPerUser)
                    .Select(r => DuisSignature.Sign(DuisRequestWriter.Write(new RequestId(u.Id, world.Wan.Fleet[i].ElectricityMeter.Id, first + (ulong)((i * args.RequestsPerUser) + r)), 1, variant), signingKeys[i]))
                    .ToList()).ToList();
            }
            var logged = (await store.MessageLog.ReadHeadAsync())?.Sequence ?? 0;
            var warmUps = 0;
            var exchangeCpus = new List<double>();
            var withCryptoCpus = new List<double>();
            var withCryptoRates = new List<double>();
            var withDeviceResponseCpus = new List<double>();
            var withDeviceResponseRates = new List<double>();
            for (var round = 1; round <= args.Rounds;)
            {
                var batches = SignRound();
                var requests = batches.SelectMany(b => b).ToList();
                // The bound is measured just before the round and just after it, and the two averaged, so that the host
                // speeding up or slowing down (a shared machine's neighbours) moves the bound with the gateway's round.
                var cryptoBefore = await CryptoOnlyAsync(requests, users, dsp, variant);
                var compiledBefore = JitInfo.GetCompiledMethodCount();
                Heap.Settle();
                var writerBefore = MessageLogWriterCpu();
                var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                var allocatedBefore = GC.GetTotalAllocatedBytes();
                var watch = Stopwatch.StartNew();
                // Every request is to get its I99.
                var latencies = await LeanHttpClient.PostAllAsync(connections, batches, (status, body) => status == 200 && body.Span.IndexOf(">I99<"u8) >= 0);
                var answered = watch.Elapsed;
                // The round ends when its device side has too: each request's I0 built, signed and logged (and, with
                // response URLs, delivered) after its I99. A hub under sustained load pays for that as it goes; a round
                // that stopped its clock at the last I99 would leave out whatever of it had fallen behind.
                var roundStart = logged + 1;
                logged += recordsPerRequest * latencies.Length;
                await Progress.WaitForAsync(async () => (await store.MessageLog.ReadHeadAsync())?.Sequence ?? 0, logged, TimeSpan.FromSeconds(30), "the message log (a device response went missing?)");
                var elapsed = watch.Elapsed;
                var gatewayRate = latencies.Length / elapsed.TotalSeconds;
                var gatewayCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds / latencies.Length;
                var writerCpu = (MessageLogWriterCpu() - writerBefore)?.TotalMicroseconds / latencies.Length;
                var gatewayAllocated = (GC.GetTotalAllocatedBytes() - allocatedBefore) / 1024.0 / latencies.Length;
                var tail = (elapsed - answered).TotalMilliseconds;
                Array.Sort(latencies);

                var cryptoAfter = await CryptoOnlyAsync(requests, users, dsp, variant);
                // The same requests twice: the rate of both runs together, and their mean CPU per request.
                var cryptoRate = 2 / ((1 / cryptoBefore.Rate) + (1 / cryptoAfter.Rate));
                var cryptoCpu = (cryptoBefore.CpuMicroseconds + cryptoAfter.CpuMicroseconds) / 2;
                var deviceResponses = await DeviceResponsesAsync(store.MessageLog, roundStart, latencies.Length);
                var (exchange, withCrypto, withDeviceResponse) = await references.RunAsync(batches, GbcsPayloadOf(deviceResponses[0]));
                var deviceResponseRate = await DeviceResponseSigningAsync(deviceResponses, dsp);
                var endToEndRate = 1 / ((1 / cryptoRate) + (1 / deviceResponseRate));
                var compiled = JitInfo.GetCompiledMethodCount() - compiledBefore;
                if (gatewayRates.Count == 0 && warmUps < MaxWarmUpRounds && (warmUps < MinWarmUpRounds || compiled > SettledCompilations))
                {
                    warmUps++;
                    Console.WriteLine($"  warm-up {warmUps}: gateway {gatewayRate,8:N0} req/s ({gatewayCpu:F0} µs CPU, {gatewayAllocated:F1} KiB allocated), crypto only {cryptoRate,8:N0} req/s ({cryptoCpu:F0} µs CPU), {compiled} methods compiled (not counted)");
                    continue;
                }
                gatewayRates.Add(gatewayRate);
                cryptoRates.Add(cryptoRate);
                p50s.Add(latencies[latencies.Length / 2]);
                p99s.Add(latencies[(int)(latencies.Length * 0.99)]);
                gatewayCpus.Add(gatewayCpu);
                if (writerCpu is { } writer)
                {
                    writerCpus.Add(writer);
                }
                cryptoCpus.Add(cryptoCpu);
                endToEndRates.Add(endToEndRate);
                exchangeCpus.Add(exchange.CpuMicroseconds);
                withCryptoCpus.Add(withCrypto.CpuMicroseconds);
                withCryptoRates.Add(withCrypto.Rate);
                withDeviceResponseCpus.Add(withDeviceResponse.CpuMicroseconds);
                withDeviceResponseRates.Add(withDeviceResponse.Rate);
                Console.WriteLine($"  round {round}: gateway {gatewayRate,8:N0} req/s (p50 {p50s[^1]:F1} ms, p99 {p99s[^1]:F1} ms, the device side done {tail:F0} ms after the last I99; {gatewayCpu:F0} µs CPU{(writerCpu is { } w ? $" of which the message log writer {w:F0}" : "")}, {gatewayAllocated:F1} KiB allocated)   crypto only {cryptoRate,8:N0} req/s ({cryptoCpu:F0} µs CPU)   ratio {gatewayRate / cryptoRate:F2}, {compiled} methods compiled; with the I0's signature {endToEndRate,8:N0} req/s, ratio {gatewayRate / endToEndRate:F2}; the HTTP exchange alone {exchange.CpuMicroseconds:F0} µs CPU, with the bound's work {withCrypto.CpuMicroseconds:F0} µs, and the I0's signature too {withDeviceResponse.CpuMicroseconds:F0} µs (ratio {withDeviceResponse.Rate / cryptoRate:F2})");
                round++;
            }
            var ratio = Median(gatewayRates) / Median(cryptoRates);
            Console.WriteLine($"gateway ({engine}): {Median(gatewayRates):N0} req/s (answered, and their device side done), p50 {Median(p50s):F1} ms, p99 {Median(p99s):F1} ms; crypto-only bound {Median(cryptoRates):N0} req/s; ratio {ratio:F2} (target >= 0.50: {(ratio >= 0.5 ? "met" : "NOT met")}); CPU per request: gateway {Median(gatewayCpus):F0} µs (the benchmark's HTTP client included{(postgres is null ? "" : "; not the PostgreSQL server's")}), crypto only {Median(cryptoCpus):F0} µs" +
                (writerCpus.Count == 0 ? "" : $"; the message log writer's thread (the store's group commit{(postgres is null ? "" : ", its own part: awaited I/O resumes elsewhere")}) {Median(writerCpus):F0} µs of the gateway's"));
            var (gatewayCpuMedian, withCryptoCpu) = (Median(gatewayCpus), Median(withCryptoCpus));
            Console.WriteLine("  where the gateway's CPU goes (µs a request; the same client and requests against a bare Kestrel endpoint in this process, which checks, logs and sends on nothing else, each round):");
            Console.WriteLine($"    the HTTP exchange alone (a prepared I99 back): {Median(exchangeCpus):F0} µs");
            Console.WriteLine($"    the HTTP exchange with the bound's work (the request parsed, read and verified against its certificate, its I99 made and signed): {withCryptoCpu:F0} µs ({Median(withCryptoRates):N0} req/s, ratio {Median(withCryptoRates) / Median(cryptoRates):F2} to the bound)");
            // Issue 3 has every response DSP-signed (point 6), the I0 a device request's answer as well as its I99: what this
            // reference does is the least a gateway meeting the issue does, before logging (point 7), replay (4), access
            // control (5) or the device. Its ratio to the bound is the most any such gateway could reach on this machine.
            Console.WriteLine($"    the HTTP exchange with the bound's work and the I0 made and signed too (then dropped: nothing logged, no replay check, access control or device): {Median(withDeviceResponseCpus):F0} µs ({Median(withDeviceResponseRates):N0} req/s, ratio {Median(withDeviceResponseRates) / Median(cryptoRates):F2} to the bound: the ceiling for a gateway that signs both responses, on this machine)");
            if (writerCpus.Count > 0)
            {
                // Point 7 has every message logged: the writer thread's CPU is what storing a request's messages costs this
                // store (about what raw batched inserts of the same rows cost: the message-log scenario). On top of the
                // reference's, all cores busy, the rate falls in proportion.
                var (ceilingCpu, writer) = (Median(withDeviceResponseCpus), Median(writerCpus));
                Console.WriteLine($"    that, with its messages stored as this hub's message log stores them ({writer:F0} µs its writer thread): {ceilingCpu + writer:F0} µs, ratio at most {Median(withDeviceResponseRates) * ceilingCpu / (ceilingCpu + writer) / Median(cryptoRates):F2} to the bound, before replay, access control or the device");
            }
            Console.WriteLine($"    the gateway: {gatewayCpuMedian:F0} µs, of which {gatewayCpuMedian - withCryptoCpu:F0} µs beyond that exchange: the replay check (its grain), access control, the message log{(writerCpus.Count == 0 ? "" : $" ({Median(writerCpus):F0} µs its writer thread)")}, the command through its comms hub grain to the meter and its answer, the I0 made, signed and kept");
            // With every core busy, rate and CPU per request are inverse: ratio 0.5 is about twice the bound's CPU per request.
            Console.WriteLine($"    ratio 0.5 would leave the gateway about 2 x {Median(cryptoCpus):F0} = {2 * Median(cryptoCpus):F0} µs a request: {(2 * Median(cryptoCpus)) - withCryptoCpu:F0} µs beyond that exchange for all of the above");
            // Not the issue's bound, which counts one signature per request: each 4.1.1 also has its asynchronous I0 signed
            // (point 6), so this is the bare cryptography the request needs end to end. Reported for comparison only.
            Console.WriteLine($"  for comparison, not the target: the crypto a 4.1.1 needs end to end (1 verify, 2 signs: the I99 and the device's I0, 3 canonicalisations): {Median(endToEndRates):N0} req/s; gateway ratio to it {Median(gatewayRates) / Median(endToEndRates):F2}");
            foreach (var key in signingKeys)
            {
                key.Dispose();
            }
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
            foreach (var (_, key) in users)
            {
                key.Dispose();
            }
            return ratio >= 0.5;
        }
        finally
        {
            await app.StopAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// Warm-up lasts until tiered compilation has settled: a round in which the JIT still compiles more than
    /// <see cref="SettledCompilations"/> methods (tier-1 recompilations, the instrumented tier of dynamic PGO) is charged
    /// for the JIT's background thread, which a hub serving for hours no longer pays. At least
    /// <see cref="MinWarmUpRounds"/> rounds, at most <see cref="MaxWarmUpRounds"/>; the rounds counted then follow.
    /// </summary>
    private const int MinWarmUpRounds = 4, MaxWarmUpRounds = 20, SettledCompilations = 50;

    /// <summary>The message log entries of an accepted 4.1.1 request: the request, its I99, and the device's I0 (undeliverable: the bench's users have no response URL, so it goes to the failed queue, which adds no entry).</summary>
    private const int RecordsPerRequest = 3;

    /// <summary>With response URLs: the request, its I99, the I0 handed to delivery (its bytes, which the queue reads from it) and the I0 delivered (no bytes: it names the entry handing it over).</summary>
    private const int RecordsPerRequestDelivered = 4;

    /// <summary>
    /// Per request, on all cores: verify its signature (canonicalise, digest, ECDSA verify) and sign a response
    /// (canonicalise, digest, ECDSA sign, serialise). Nothing else: both documents are parsed and the keys taken out
    /// of their certificates before the clock starts (<see cref="OnAllCoresAsync"/>).
    /// </summary>
    private static async Task<(double Rate, double CpuMicroseconds)> CryptoOnlyAsync(List<byte[]> requests, List<(Eui64 Id, X509Certificate2 Key)> users, X509Certificate2 dsp, ServiceReferenceVariant variant)
    {
        var keys = users.ToDictionary(u => OrganisationCertificate.FromX509(u.Key).SerialNumber, u => XmlSignatureKey.ForVerifying(u.Key));
        using var dspKey = XmlSignatureKey.ForSigning(dsp);
        var (elapsed, cpu) = await OnAllCoresAsync(
            requests,
            chunk => chunk.Select(r =>
            {
                var document = DuisSignature.Load(r);
                var id = RequestId.Parse(document.GetElementsByTagName("RequestID", DuisNamespaces.ServiceUserGateway)[0]!.InnerText);
                return (Request: document, Response: DuisSignature.Load(new DuisResponse(id, "I99", Instant.FromUnixTimeSeconds(0), variant.ServiceReference, variant.Id, new ResponsePayload.None()).ToCanonicalXml()));
            }).ToList(),
            async pair =>
            {
                var check = await DuisSignature.VerifyAsync(pair.Request, (_, serial, _) => ValueTask.FromResult<XmlSignatureKey?>(keys[serial]), CancellationToken.None);
                if (check is not SignatureCheck.Valid)
                {
                    throw new InvalidOperationException($"a request did not verify: {check}");
                }
                DuisSignature.Sign(pair.Response, dspKey);
            });
        foreach (var key in keys.Values)
        {
            key.Dispose();
        }
        return (requests.Count / elapsed.TotalSeconds, cpu.TotalMicroseconds / requests.Count);
    }

    /// <summary>
    /// Times <paramref name="work"/> on every item, on all cores, a chunk at a time: each chunk is prepared (parsed,
    /// keys taken out) before its clock starts, so that a heap of prepared documents does not slow the measured work
    /// down, and the heap is settled before each chunk's clock starts (the chunk's prepared documents would otherwise
    /// be promoted, at the measurement's cost, inside its window).
    /// </summary>
    private static async Task<(TimeSpan Elapsed, TimeSpan Cpu)> OnAllCoresAsync<T>(List<byte[]> inputs, Func<byte[][], List<T>> prepare, Func<T, ValueTask> work)
    {
        const int chunkSize = 512;
        var elapsed = TimeSpan.Zero;
        var cpu = TimeSpan.Zero;
        foreach (var chunk in inputs.Chunk(chunkSize))
        {
            var prepared = prepare(chunk);
            var next = -1;
            Heap.Settle();
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, Environment.ProcessorCount).Select(_ => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < prepared.Count)
                {
                    await work(prepared[i]);
                }
            })));
            elapsed += watch.Elapsed;
            cpu += Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        }
        return (elapsed, cpu);
    }

    /// <summary>The I0 the device side signed for each request of the round, from the message log (one per request).</summary>
    private static async Task<List<byte[]>> DeviceResponsesAsync(IMessageLog log, long fromSequence, int requests)
    {
        var responses = new Dictionary<string, byte[]>();
        await foreach (var entry in log.ReadAsync(fromSequence))
        {
            var record = entry.Record;
            // The entry with the I0's bytes: held ("I0 undeliverable: …") or handed to delivery ("I0 queued for delivery to …";
            // its delivery's entry, "I0; Delivered; the bytes of entry …", has none).
            if (record.Direction == MessageDirection.Outbound && record.Outcome.StartsWith("I0", StringComparison.Ordinal) && !record.Payload.IsEmpty && record.Correlation is { } correlation)
            {
                responses[correlation] = record.Payload.ToArray();
            }
        }
        return responses.Count == requests
            ? [.. responses.Values]
            : throw new InvalidOperationException($"expected {requests} device responses (I0) in the log, found {responses.Count}");
    }

    /// <summary>The meter's answer an I0 carries (its GBCSPayload, base64), as the device side handed it to the hub.</summary>
    private static byte[] GbcsPayloadOf(byte[] deviceResponse) =>
        Convert.FromBase64String(DuisSignature.Load(deviceResponse).GetElementsByTagName("GBCSPayload", DuisNamespaces.ServiceUserGateway)[0]!.InnerText);

    /// <summary>
    /// Per request, on all cores: sign its device response (I0) as the bound signs the I99 (canonicalise, digest, ECDSA
    /// sign, serialise), each loaded before the clock starts. The requests per second this alone allows.
    /// </summary>
    private static async Task<double> DeviceResponseSigningAsync(List<byte[]> deviceResponses, X509Certificate2 dsp)
    {
        using var dspKey = XmlSignatureKey.ForSigning(dsp);
        // Sign takes off the DSP signature the hub put on it and signs it afresh.
        var (elapsed, _) = await OnAllCoresAsync(deviceResponses, chunk => chunk.Select(r => DuisSignature.Load(r)).ToList(), document =>
        {
            DuisSignature.Sign(document, dspKey);
            return ValueTask.CompletedTask;
        });
        return deviceResponses.Count / elapsed.TotalSeconds;
    }

    /// <summary>
    /// The CPU time of the message log's writer thread so far (<see cref="MessageLogWriter"/>, its group commit), from
    /// Linux's per-thread accounting; null elsewhere. Its share of the gateway's CPU is what the store's writes cost.
    /// </summary>
    private static TimeSpan? MessageLogWriterCpu()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        long ticks = 0;
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                // The kernel keeps a thread's first 15 characters of name.
                if (!File.ReadAllText(Path.Combine(task, "comm")).StartsWith(MessageLogWriter.ThreadName[..15], StringComparison.Ordinal))
                {
                    continue;
                }
                // Fields after the name in parentheses: utime and stime are the 14th and 15th of the line, in clock ticks.
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // A thread that ended meanwhile.
            }
        }
        return TimeSpan.FromSeconds(ticks / (double)ClockTicksPerSecond);
    }

    /// <summary>USER_HZ, the unit of /proc's CPU times: 100 on every Linux architecture .NET runs on.</summary>
    private const int ClockTicksPerSecond = 100;

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static int FreePort() => LoopbackPorts.Free();
}
