using System.Security.Cryptography;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.EarlySmart;
using OpenDcc.Core.Translation.Gbcs;

namespace OpenDcc.Simulator.Wan;

/// <summary>
/// The translation adapters a hub reaches simulated devices with, whether the simulator runs in the hub's process or
/// in its own: the GBCS and early-smart reference adapters for the simulator's models, keyed from the hub's key
/// store (the ACB key-agreement key, the early-smart translation secret), and any manufacturers' adapters loaded
/// beside them.
/// </summary>
internal sealed class SimulatorAdapters : IDisposable
{
    private readonly GbcsReferenceAdapter gbcs;
    private readonly EarlySmartReferenceAdapter earlySmart;

    private SimulatorAdapters(ECDiffieHellman acbKey, GbcsReferenceAdapter gbcs, EarlySmartReferenceAdapter earlySmart, TranslationAdapters adapters)
    {
        AcbKey = acbKey;
        this.gbcs = gbcs;
        this.earlySmart = earlySmart;
        Adapters = adapters;
    }

    /// <summary>The ACB's key-agreement key (owned here).</summary>
    public ECDiffieHellman AcbKey { get; }

    public TranslationAdapters Adapters { get; }

    /// <param name="acbKey">The ACB's key-agreement key from <paramref name="keys"/>; owned from here, disposed also when this fails.</param>
    /// <param name="deviceKeys">Where the devices' public key-agreement keys are found.</param>
    public static SimulatorAdapters Create(
        FileKeyStore keys,
        Eui64 acb,
        ECDiffieHellman acbKey,
        IDeviceKeyDirectory deviceKeys,
        IReadOnlyList<string>? adapterAssemblies,
        IReadOnlyDictionary<string, string>? adapterModels)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var gbcs = new GbcsReferenceAdapter(acb, acbKey, deviceKeys);
        EarlySmartReferenceAdapter? earlySmart = null;
        try
        {
            earlySmart = new EarlySmartReferenceAdapter(acb, keys.LoadOrCreateSecret("early-smart-translation"));
            var services = new AdapterServices(acb, acbKey, deviceKeys, keys.LoadOrCreateSecret);
            var loaded = (adapterAssemblies ?? []).SelectMany(path => AdapterLoader.Load(path, services)).ToList();
            var models = new Dictionary<string, string>(adapterModels ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase)
            {
                [SimulatedWorld.GbcsModel] = gbcs.Name,
                [SimulatedWorld.EarlySmartModel] = earlySmart.Name,
            };
            return new SimulatorAdapters(acbKey, gbcs, earlySmart, new TranslationAdapters([gbcs, earlySmart, .. loaded], models, gbcs.Name));
        }
        catch
        {
            // An adapter that cannot be loaded or a model naming no adapter: nothing is left open.
            earlySmart?.Dispose();
            gbcs.Dispose();
            acbKey.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads a device's GBCS frame (a DUIS GBCSPayload) as its supplier would with the key the frame was MACed
    /// under, without touching the adapters' counters: with the device's public key (GBCS devices), or, for
    /// early-smart devices (<paramref name="devicePublic"/> null), the key OpenDcc translated their answers under.
    /// </summary>
    public GbcsDecodeResult<DeviceOutcome> ReadAnswer(ReadOnlySpan<byte> frame, Eui64 device, Eui64 acb, ECDiffieHellmanPublicKey? devicePublic)
    {
        if (devicePublic is null)
        {
            return GbcsCodec.DecodeResponse(frame, earlySmart.KeyFor(device));
        }
        using var key = GbcsMacKey.Derive(AcbKey, devicePublic, acb, device);
        return GbcsCodec.DecodeResponse(frame, key);
    }

    public void Dispose()
    {
        gbcs.Dispose();
        earlySmart.Dispose();
        AcbKey.Dispose();
    }
}
