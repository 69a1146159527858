using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.AccessControl;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Delivery;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Registration;
using OpenDcc.Core.Security;
using OpenDcc.Core.SmartGrid;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Wan;
using OpenDcc.Simulator.Devices;
using OpenDcc.Simulator.Wan;
using OpenDcc.Storage;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// A real hub (Kestrel, Orleans silo, SQLite or PostgreSQL) on free loopback ports, with users whose XmlSign keys the tests hold,
/// devices in the inventory, and a response receiver standing in for the users' systems.
/// </summary>
public sealed class TestHub : IAsyncDisposable
{
    public static readonly Eui64 Supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
    public static readonly Eui64 NetworkOperator = Eui64.Parse("90-B3-D5-1F-30-02-00-00");
    public static readonly Eui64 Stranger = Eui64.Parse("00-DB-12-34-56-78-00-04");
    public static readonly Eui64 Meter = Eui64.Parse("00-DB-12-34-56-78-90-A0");
    public static readonly Eui64 UnknownMeter = Eui64.Parse("00-DB-12-34-56-78-90-FF");
    public static readonly Eui64 GasMeter = Eui64.Parse("00-DB-12-34-56-78-90-A1");
    public static readonly Eui64 CommsHub = Eui64.Parse("00-DB-12-34-56-78-90-A2");
    public static readonly Eui64 OfflineMeter = Eui64.Parse("00-DB-12-34-56-78-90-B0");
    public static readonly Eui64 EarlySmartMeter = Eui64.Parse("00-DB-12-34-56-78-90-E5");
    public static readonly Eui64 Dsp = Eui64.Parse("90-B3-D5-1F-30-00-00-02");

    private readonly Dictionary<Eui64, X509Certificate2> keys = [];
    private readonly Dictionary<Eui64, X509Certificate2> signingKeys = [];
    private WebApplication app = null!;
    private long counter = 1000;
    private Duration wanLatency;
    private int wanLoss;
    private IReadOnlyList<ApprovedModel> approvedModels = [];
    private IClock clock = SystemClock.Instance;
    private int sites = 2;
    private SmartGridOptions smartGrid = SmartGridOptions.Default;
    private bool overLoopback;
    private bool simulatorRunning;
    private int concurrencyPerCell = WanOptions.Default.ConcurrencyPerCell;
    private Func<IWanTransport, IWanTransport>? wrapWan;
    private Action<IServiceCollection>? configureServices;
    private bool viaProxy;
    private AlertThrottleOptions alertThrottle = AlertThrottleOptions.Default;
    private SmiStatusMatrix statusMatrix = SmiStatusMatrix.Default;
    private TestDatabase? database;
    private Duration messageLogCheckpointInterval;
    private DeliveryOptions delivery = DeliveryOptions.Default;

    private TestHub(string dataDirectory) => DataDirectory = dataDirectory;

    public string DataDirectory { get; }

    /// <summary>The simulated devices and WAN behind the hub, in its process (not over loopback).</summary>
    public SimulatedWorld World { get; private set; } = null!;

    /// <summary>Over loopback: the simulator, in a host of its own on a free loopback port.</summary>
    public SimulatorHost? Simulator { get; private set; }

    /// <summary>Over loopback with <c>viaProxy</c>: what stands between the hub and <see cref="Simulator"/>.</summary>
    public FreezingProxy? WanProxy { get; private set; }

    /// <summary>Over loopback: the hub's connection to <see cref="Simulator"/>.</summary>
    public SimulatorConnection? Connection { get; private set; }

    /// <summary>The simulated WAN the devices are on, in-process or in the simulator's host.</summary>
    public SimulatedWan Wan => Simulator?.Wan ?? World.Wan;

    public HttpClient Http { get; private set; } = null!;

    public ResponseReceiver Receiver { get; private set; } = null!;

    public IServiceProvider Services => app.Services;

    public OpenDccStore Store => app.Services.GetRequiredService<OpenDccStore>();

    public X509Certificate2 DspCertificate => new FileKeyStore(Path.Combine(DataDirectory, "keys")).LoadDspIdentity();

    /// <param name="wanLatency">How long each exchange with a simulated device takes (none by default).</param>
    /// <param name="wanLossPerMille">Commands the simulated WAN loses in a thousand (none by default).</param>
    /// <param name="approvedModels">The approved device models (none by default: any model is accepted).</param>
    /// <param name="clock">The hub's and the simulated devices' clock (the system clock by default).</param>
    /// <param name="sites">How many sites the in-process simulated fleet has (2 by default; their devices are not in the inventory).</param>
    /// <param name="smartGrid">Deadlines and fan-out of smart-grid reads (the defaults by default).</param>
    /// <param name="overLoopback">The simulator runs in a host of its own (<see cref="SimulatorHost"/>) and the hub reaches it over loopback, as with <c>opendcc simulate</c>.</param>
    /// <param name="concurrencyPerCell">Commands in flight at once per radio cell (the default by default).</param>
    /// <param name="wrapWan">Puts a WAN of the test's in front of the simulated one (in-process only), e.g. to watch the exchanges.</param>
    /// <param name="alertThrottle">How many alerts of a device and code are delivered per window (the default by default).</param>
    /// <param name="viaProxy">Over loopback: the hub reaches the simulator through <see cref="WanProxy"/>, which the test can freeze.</param>
    /// <param name="dspId">The DCC's EUI-64, as 'opendcc keys init --dsp-id' gives it (DCC Boxed's, <see cref="Dsp"/>, by default).</param>
    /// <param name="postgres">The hub's store is a fresh PostgreSQL database (<see cref="TestDatabase"/>), as with <c>serve --postgres</c>, kept across <see cref="RestartAsync"/> and dropped on dispose; SQLite in <see cref="DataDirectory"/> by default.</param>
    /// <param name="configureServices">Runs after the hub's own registrations, e.g. to put a store of the test's in front of the hub's (<see cref="Decorate"/>).</param>
    /// <param name="messageLogCheckpointInterval">How often the hub signs the message log's head (the hub's default, a minute, by default).</param>
    /// <param name="delivery">How the hub delivers to the users' response URLs (the defaults by default).</param>
    public static async Task<TestHub> StartAsync(Duration? wanLatency = null, int wanLossPerMille = 0, IReadOnlyList<ApprovedModel>? approvedModels = null, bool overLoopback = false, IClock? clock = null, int sites = 2, SmartGridOptions? smartGrid = null,
        int? concurrencyPerCell = null, Func<IWanTransport, IWanTransport>? wrapWan = null, AlertThrottleOptions? alertThrottle = null,
        Action<IServiceCollection>? configureServices = null, bool viaProxy = false, SmiStatusMatrix? statusMatrix = null, Eui64? dspId = null, bool postgres = false,
        Duration? messageLogCheckpointInterval = null, DeliveryOptions? delivery = null)
    {
        var hub = new TestHub(Path.Combine(Path.GetTempPath(), "opendcc-hub-" + Guid.NewGuid().ToString("N")))
        {
            wanLatency = wanLatency ?? Duration.Zero,
            wanLoss = wanLossPerMille,
            approvedModels = approvedModels ?? [],
            clock = clock ?? SystemClock.Instance,
            sites = sites,
            smartGrid = smartGrid ?? SmartGridOptions.Default,
            overLoopback = overLoopback,
            concurrencyPerCell = concurrencyPerCell ?? WanOptions.Default.ConcurrencyPerCell,
            wrapWan = wrapWan,
            configureServices = configureServices,
            viaProxy = viaProxy,
            alertThrottle = alertThrottle ?? AlertThrottleOptions.Default,
            statusMatrix = statusMatrix ?? SmiStatusMatrix.Default,
            messageLogCheckpointInterval = messageLogCheckpointInterval ?? HubOptions.DefaultMessageLogCheckpointInterval,
            delivery = delivery ?? DeliveryOptions.Default,
        };
        if (dspId is { } dsp)
        {
            // As 'opendcc keys init --dsp-id' leaves it: the hub keeps the identity it finds.
            new FileKeyStore(Path.Combine(hub.DataDirectory, "keys")).Initialise(dsp, hub.clock);
        }
        if (postgres)
        {
            hub.database = await TestDatabase.CreateAsync();
        }
        hub.Receiver = await ResponseReceiver.StartAsync();
        if (overLoopback)
        {
            await hub.StartSimulatorAsync(0);
        }
        await hub.StartHubAsync();
        await hub.ProvisionAsync();
        if (hub.Connection is { } connection)
        {
            // After the test devices: the simulator lists them too, and the inventory keeps what it holds.
            await connection.ConnectAsync(hub.Store.Inventory);
        }
        return hub;
    }

    /// <summary>Puts <paramref name="wrap"/> around the hub's own registration of <typeparamref name="T"/>.</summary>
    public static void Decorate<T>(IServiceCollection services, Func<T, T> wrap)
        where T : class
    {
        var hubs = services.Last(d => d.ServiceType == typeof(T));
        services.AddSingleton(sp => wrap((T)(hubs.ImplementationInstance ?? hubs.ImplementationFactory!(sp))));
    }

    /// <summary>Stops the hub and starts a new one over the same data directory.</summary>
    /// <param name="whileStopped">Run on the hub's store, opened as another process would open it, while no hub runs: what a hub that died left there.</param>
    public async Task RestartAsync(Func<OpenDccStore, Task>? whileStopped = null)
    {
        Http.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
        if (whileStopped is not null)
        {
            await using var store = database is null
                ? await OpenDccStore.OpenSqliteAsync(DataDirectory, SystemClock.Instance)
                : await OpenDccStore.OpenPostgresAsync(database.ConnectionString, SystemClock.Instance);
            await whileStopped(store);
        }
        await StartHubAsync();
        if (Connection is { } connection)
        {
            await connection.ConnectAsync(Store.Inventory);
        }
    }

    /// <summary>Over loopback: the simulator stops, as its process would end.</summary>
    public async Task StopSimulatorAsync()
    {
        if (simulatorRunning)
        {
            simulatorRunning = false;
            await Simulator!.DisposeAsync();
            Simulator.Wan.Dispose();
        }
    }

    /// <summary>Over loopback: a new simulator with the same seed on the same port, as <c>opendcc simulate</c> started again.</summary>
    public Task StartSimulatorAgainAsync() => StartSimulatorAsync(Simulator!.Url.Port);

    private async Task StartSimulatorAsync(int port)
    {
        var wan = new SimulatedWan(new SimulatedFleet(seed: 7, siteCount: 2), SystemClock.Instance, new SimulatedWanOptions(wanLatency, wanLoss), SimulatedWorld.FormatOf);
        InstallTestMeters(wan);
        Simulator = await SimulatorHost.StartAsync(wan, new IPEndPoint(IPAddress.Loopback, port));
        simulatorRunning = true;
    }

    /// <summary>The test meters and the comms hub of the first (its device log), installed on the simulated WAN under the IDs the tests use.</summary>
    private static void InstallTestMeters(SimulatedWan wan)
    {
        wan.InstallSiteDevice(Meter, DeviceType.ESME);
        wan.InstallSiteDevice(CommsHub, DeviceType.CHF);
        wan.InstallSiteDevice(GasMeter, DeviceType.GSME);
        wan.InstallSiteDevice(OfflineMeter, DeviceType.ESME, site: 1);
        wan.SetOffline(OfflineMeter, true);
        wan.Install(EarlySmartMeter, wan.Fleet[1].GasMeter, WireFormat.EarlySmart);
    }

    private async Task StartHubAsync()
    {
        var keys = new FileKeyStore(Path.Combine(DataDirectory, "keys"));
        var dcc = keys.DspIdOr(Dsp);
        var options = WanOptions.Default with { AttemptTimeout = Duration.FromSeconds(2) + (wanLatency * 3), Retries = 1, RetryBackoff = Duration.FromMilliseconds(100), ConcurrencyPerCell = concurrencyPerCell };
        DeviceSide devices;
        if (overLoopback)
        {
            if (Connection is not null)
            {
                await Connection.DisposeAsync();
            }
            if (viaProxy)
            {
                WanProxy ??= new FreezingProxy(Simulator!.Url);
            }
            Connection = SimulatorConnection.Create(keys, dcc, WanProxy?.Url ?? Simulator!.Url, options);
            devices = Connection.Devices;
        }
        else
        {
            World?.Dispose();
            World = SimulatedWorld.Create(keys, dcc, new SimulatedFleet(seed: 7, siteCount: sites), clock, new SimulatedWanOptions(wanLatency, wanLoss), options);
            InstallTestMeters(World.Wan);
            devices = wrapWan is null ? World.Devices : World.Devices with { Wan = wrapWan(World.Wan) };
        }
        // The registration systems: the supplier supplies the test meters, the network operator runs the area.
        ((SimulatedRegistrationData)devices.Registrations).FleetRegistration = new MeterPointRegistration(null, null, Supplier, NetworkOperator);
        // The silo's two ports are chosen free, then bound: another process (a second test run) may take one between.
        for (var attempt = 1; ; attempt++)
        {
            app = await HubHost.BuildAsync(new HubOptions(DataDirectory, database?.ConnectionString, Urls: "http://127.0.0.1:0", SiloPort: FreePort(), GatewayPort: FreePort()) { ApprovedModels = approvedModels, SmartGrid = smartGrid, AlertThrottle = alertThrottle, StatusMatrix = statusMatrix, MessageLogCheckpointInterval = messageLogCheckpointInterval, Delivery = delivery }, clock, devices, configureServices: configureServices);
            try
            {
                await app.StartAsync();
                break;
            }
            catch (Exception e) when (attempt < 3 && IsAddressInUse(e))
            {
                await app.DisposeAsync();
            }
        }
        // Port 0: Kestrel binds a free port itself, which no other test can take between choosing and binding it.
        Http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        // A restarted world's devices get their supplier's key again.
        await PlaceSupplierTrustAnchorsAsync();
    }

    private async Task ProvisionAsync()
    {
        using var ca = CertificateAuthority.Create("Test OCA", clock, Duration.FromDays(3650));
        var users = new[]
        {
            new DccUser(Supplier, "Test Supplier", DccUserRole.ImportSupplier | DccUserRole.GasSupplier, DccUserStatus.Active, Receiver.Url),
            new DccUser(NetworkOperator, "Test DNO", DccUserRole.ElectricityDistributor, DccUserStatus.Active, Receiver.Url),
        };
        foreach (var user in users)
        {
            await Store.Parties.AddUserAsync(user);
            var certificate = ca.Issue(user.Id, RemotePartyRole.XmlSign, user.Name, clock, Duration.FromDays(365));
            await Store.Parties.AddCertificateAsync(OrganisationCertificate.FromX509(certificate));
            keys[user.Id] = certificate;
        }
        // The supplier's Digital Signing (OU=02) key, which signs critical commands; the simulated meters hold its
        // certificate as their supplier trust anchor.
        var signing = ca.Issue(Supplier, RemotePartyRole.Supplier, "Test Supplier", clock, Duration.FromDays(365));
        await Store.Parties.AddCertificateAsync(OrganisationCertificate.FromX509(signing));
        signingKeys[Supplier] = signing;
        await PlaceSupplierTrustAnchorsAsync();
        // A key the hub has never seen, for a party that is not a DCC user.
        keys[Stranger] = ca.Issue(Stranger, RemotePartyRole.XmlSign, "Stranger", clock, Duration.FromDays(365));
        await Store.Inventory.AddDevicesAsync(
        [
            new Device(Meter, DeviceType.ESME, SmiStatus.Commissioned) { Model = SimulatedWorld.GbcsModel },
            new Device(GasMeter, DeviceType.GSME, SmiStatus.Commissioned) { Model = SimulatedWorld.GbcsModel },
            new Device(OfflineMeter, DeviceType.ESME, SmiStatus.Commissioned) { Model = SimulatedWorld.GbcsModel },
            new Device(CommsHub, DeviceType.CHF, SmiStatus.Commissioned),
            new Device(EarlySmartMeter, DeviceType.GSME, SmiStatus.Commissioned) { Model = SimulatedWorld.EarlySmartModel },
        ]);
    }

    public X509Certificate2 KeyOf(Eui64 party) => keys[party];

    /// <summary>The party's Digital Signing (OU=02) certificate and key, which signs critical commands (not DUIS messages).</summary>
    public X509Certificate2 DigitalSigningKeyOf(Eui64 party) => signingKeys[party];

    /// <summary>
    /// The simulated devices take their registered supplier's Digital Signing key as their trust anchor: in-process
    /// directly, in the simulator's host through the hub's connection over loopback (posted again when it connects).
    /// </summary>
    private Task<int> PlaceSupplierTrustAnchorsAsync() => Connection is { } connection
        ? connection.PlaceSupplierTrustAnchorsAsync(Store.Parties, SystemClock.Instance.GetCurrentInstant())
        : World.PlaceSupplierTrustAnchorsAsync(Store.Parties, SystemClock.Instance.GetCurrentInstant());


    /// <summary>Reads the device's GBCS frame in an asynchronous response as a user holding the ACB–device key would.</summary>
    public DeviceOutcome ReadDeviceAnswer(string asynchronousResponse, Eui64 device)
    {
        var frame = Convert.FromBase64String(XDocument.Parse(asynchronousResponse).Descendants(DuisNamespaces.Sr + "GBCSPayload").Single().Value);
        var decoded = Connection is not null ? Connection.ReadAnswer(frame, device, Dsp) : World.ReadAnswer(frame, device, Dsp);
        Assert.True(decoded.Succeeded, decoded.Reason);
        Assert.Equal(device, decoded.Header.Originator);
        return decoded.Value!;
    }

    public ulong NextCounter() => (ulong)Interlocked.Increment(ref counter);

    /// <summary>Transform (CV 4) of a critical SRV for a device, as the supplier: the pre-command the gateway answers with (I0).</summary>
    /// <param name="counter">The Transform's RequestID counter (a new one unless given): the pre-command's counter, and the RequestID a signed pre-command may follow it under.</param>
    public async Task<byte[]> TransformAsync(Eui64 device, string srv, string bodyInner = "", ulong? counter = null)
    {
        var (code, response) = await SendAsync("/api/v1/serviceT", Request(Supplier, device, counter ?? NextCounter(), 4, srv, bodyInner));
        Assert.Equal("I0", code);
        return Convert.FromBase64String(response.Descendants(DuisNamespaces.Sr + "PreCommand").Single().Element(DuisNamespaces.Sr + "GBCSPayload")!.Value);
    }

    /// <summary>The pre-command signed with the supplier's Digital Signing key, as the supplier's system would.</summary>
    public byte[] SignPreCommand(byte[] preCommand)
    {
        using var key = signingKeys[Supplier].GetECDsaPrivateKey()!;
        return Core.Translation.Gbcs.GbcsCodec.SignPreCommand(preCommand, key);
    }

    /// <summary>Sends a signed pre-command (CV 5) for a device as the supplier; returns the synchronous response code.</summary>
    public async Task<string> SendSignedPreCommandAsync(Eui64 device, string srv, byte[] signedPreCommand) =>
        (await SendAsync("/api/v1/serviceS", Encoding.UTF8.GetString(DuisRequestWriter.WriteSignedPreCommand(new RequestId(Supplier, device, NextCounter()), ServiceCatalogue.Duis[srv], signedPreCommand)))).Code;

    /// <summary>An unsigned DUIS request for an SRV with the given body content.</summary>
    public static string Request(Eui64 originator, Eui64 target, ulong counter, int commandVariant, string srv, string bodyInner = "")
    {
        var content = XElement.Parse($"<content xmlns:sr=\"{DuisNamespaces.ServiceUserGateway}\">{bodyInner}</content>").Elements().ToArray();
        return Encoding.UTF8.GetString(DuisRequestWriter.Write(new RequestId(originator, target, counter), commandVariant, ServiceCatalogue.Duis[srv], content));
    }

    /// <summary>The body of an 8.13 Return Local Command Response: the device's answer to the command given under <paramref name="original"/>.</summary>
    public static string LocalCommandResponseBody(RequestId original, byte[] answer) =>
        $"<sr:OriginalRequestID>{original}</sr:OriginalRequestID><sr:DeviceGBCSResponse>{Convert.ToBase64String(answer)}</sr:DeviceGBCSResponse>";

    public byte[] Sign(string xml, Eui64 signer) => DuisSignature.Sign(Encoding.UTF8.GetBytes(xml), keys[signer]);

    /// <summary>Posts a body declared as <paramref name="contentType"/> (null: no Content-Type).</summary>
    public async Task<(HttpStatusCode Status, string ContentType, string Body)> PostAsync(string path, byte[] body, string? contentType = "application/xml")
    {
        using var content = new ByteArrayContent(body);
        if (contentType is not null)
        {
            // Unvalidated: a test may declare what a client should not.
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        using var response = await Http.PostAsync(new Uri(path, UriKind.Relative), content);
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType ?? "", await response.Content.ReadAsStringAsync());
    }

    /// <summary>Signs with the originator's key, posts, and returns the DUIS response code after checking the DSP signature.</summary>
    public async Task<(string Code, XDocument Response)> SendAsync(string path, string xml, Eui64? signer = null)
    {
        var originator = signer ?? Eui64.Parse(XDocument.Parse(xml).Descendants().First(e => e.Name.LocalName == "RequestID").Value.Split(':')[0]);
        var (status, _, body) = await PostAsync(path, Sign(xml, originator));
        Assert.Equal(HttpStatusCode.OK, status);
        return (await CheckSignedResponseAsync(body), XDocument.Parse(body));
    }

    /// <summary>Verifies a response's DSP signature and returns its response code.</summary>
    public async Task<string> CheckSignedResponseAsync(string body)
    {
        using var dsp = DspCertificate;
        using var key = XmlSignatureKey.ForVerifying(dsp);
        var check = await DuisSignature.VerifyAsync(Encoding.UTF8.GetBytes(body), (_, _, _) => ValueTask.FromResult<XmlSignatureKey?>(key), CancellationToken.None);
        Assert.IsType<SignatureCheck.Valid>(check);
        return XDocument.Parse(body).Descendants().Single(e => e.Name.LocalName == "ResponseCode").Value;
    }

    public static int FreePort() => LoopbackPorts.Free();

    private static bool IsAddressInUse(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse })
            {
                return true;
            }
        }
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
        await Receiver.DisposeAsync();
        World?.Dispose();
        if (Connection is not null)
        {
            await Connection.DisposeAsync();
        }
        if (WanProxy is not null)
        {
            await WanProxy.DisposeAsync();
        }
        if (Simulator is not null)
        {
            await StopSimulatorAsync();
        }
        foreach (var key in keys.Values.Concat(signingKeys.Values))
        {
            key.Dispose();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(DataDirectory, recursive: true);
        if (database is not null)
        {
            await database.DisposeAsync();
        }
    }
}
