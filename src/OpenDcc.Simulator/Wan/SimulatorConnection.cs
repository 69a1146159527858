using Microsoft.Extensions.Logging;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.Gbcs;
using OpenDcc.Core.Wan;

namespace OpenDcc.Simulator.Wan;

/// <summary>
/// A simulated fleet in a process of its own (<c>opendcc simulate</c>, <see cref="SimulatorHost"/>), reached over
/// loopback (<see cref="LoopbackWan"/>), with the same reference adapters a hub uses for the in-process fleet
/// (<see cref="SimulatedWorld"/>): what <c>opendcc serve --simulator</c> runs against.
/// </summary>
public sealed class SimulatorConnection : IAsyncDisposable
{
    private readonly SimulatorAdapters adapters;

    private SimulatorConnection(LoopbackWan wan, SimulatorAdapters adapters, WanOptions options)
    {
        this.adapters = adapters;
        Wan = wan;
        Devices = new DeviceSide(adapters.Adapters, wan, Registrations) { Options = options };
    }

    public LoopbackWan Wan { get; }

    /// <summary>The simulated registration systems: whose devices these are.</summary>
    public SimulatedRegistrationData Registrations { get; } = new();

    /// <summary>What the hub is given to reach the simulated devices.</summary>
    public DeviceSide Devices { get; }

    /// <param name="keys">The hub's key store: the ACB key-agreement key is taken from it (made on first use) and its public half given to the simulator.</param>
    /// <param name="simulator">Where <c>opendcc simulate</c> listens: <c>http://</c>, a loopback host, a port.</param>
    /// <exception cref="ArgumentException"><paramref name="simulator"/> is not an http URL on loopback, or an adapter cannot be loaded.</exception>
    public static SimulatorConnection Create(
        FileKeyStore keys,
        Eui64 acb,
        Uri simulator,
        WanOptions? options = null,
        IReadOnlyList<string>? adapterAssemblies = null,
        IReadOnlyDictionary<string, string>? adapterModels = null,
        ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var acbKey = keys.LoadOrCreateAcbKeyAgreementKey();
        LoopbackWan wan;
        try
        {
            using var acbPublic = acbKey.PublicKey;
            wan = new LoopbackWan(simulator, acb, acbPublic, logger);
        }
        catch
        {
            acbKey.Dispose();
            throw;
        }
        try
        {
            return new SimulatorConnection(wan, SimulatorAdapters.Create(keys, acb, acbKey, wan, adapterAssemblies, adapterModels), options ?? WanOptions.Default);
        }
        catch
        {
            // Not connected yet: nothing is listening, so this completes at once.
            wan.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    /// <summary>Gives the simulator the ACB key and adds its devices to the inventory (those it does not hold yet); then keeps the connection.</summary>
    /// <exception cref="WanUnavailableException">no simulator answers.</exception>
    public Task<(FleetSummary Fleet, Core.Inventory.MissingDevicesAdded Added)> ConnectAsync(IInventoryStore inventory, CancellationToken cancellationToken = default) =>
        Wan.ConnectAsync(inventory, cancellationToken);

    /// <summary>
    /// The simulator's devices take their registered supplier's Digital Signing key as their trust anchor
    /// (<see cref="SimulatedRegistrationData.SupplierTrustAnchorsAsync"/>, from <see cref="Registrations"/> and the
    /// party store, as <see cref="SimulatedWorld.PlaceSupplierTrustAnchorsAsync"/> in-process): posted to the
    /// simulator over loopback now when connected, and again every time the hub connects to it.
    /// </summary>
    /// <returns>How many anchors were placed.</returns>
    /// <exception cref="WanUnavailableException">connected, but the simulator refused them or went.</exception>
    public async Task<int> PlaceSupplierTrustAnchorsAsync(IPartyStore parties, Instant now, CancellationToken cancellationToken = default)
    {
        var anchors = await Registrations.SupplierTrustAnchorsAsync(parties, now, cancellationToken);
        await Wan.SetAsync(
            LoopbackWanProtocol.SupplierTrustAnchorsPath,
            anchors.Select(a => new SupplierTrustAnchor(a.Device?.ToString(), a.Anchor.Party.ToString(), Convert.ToBase64String(a.Anchor.SubjectPublicKeyInfo.Span))).ToList(),
            cancellationToken);
        return anchors.Count;
    }

    /// <summary>Reads a device's GBCS frame (a DUIS GBCSPayload) as its supplier would; see <see cref="SimulatedWorld.ReadAnswer"/>.</summary>
    public GbcsDecodeResult<DeviceOutcome> ReadAnswer(ReadOnlySpan<byte> frame, Eui64 device, Eui64 acb)
    {
        // Only GBCS devices are listed with a key; the others are early smart.
        using var devicePublic = Wan.FindKeyAgreementKey(device);
        return adapters.ReadAnswer(frame, device, acb, devicePublic);
    }

    public async ValueTask DisposeAsync()
    {
        await Wan.DisposeAsync();
        adapters.Dispose();
    }
}
