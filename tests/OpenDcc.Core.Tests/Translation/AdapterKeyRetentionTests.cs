using System.Security.Cryptography;
using System.Text;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.EarlySmart;
using OpenDcc.Core.Translation.Gbcs;

namespace OpenDcc.Core.Tests.Translation;

/// <summary>
/// The reference adapters keep a device's MAC key only while commands go to it (released by its comms hub's grain):
/// what devices with no command in flight send (alerts, answers read back) costs no memory once read.
/// </summary>
public sealed class AdapterKeyRetentionTests : IDisposable
{
    private const int Devices = 200;
    private static readonly Eui64 Acb = Eui64.Parse("90-B3-D5-1F-30-00-00-02");
    private static readonly DeviceAlert PowerRestored = new(DeviceAlertKind.PowerRestored, 0x8F36, Instant.FromUtc(2026, 11, 28, 17, 42));

    private readonly ECDiffieHellman acbKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
    private readonly DeviceKeys wan = new();

    public void Dispose()
    {
        acbKey.Dispose();
        wan.Dispose();
    }

    [Fact]
    public void Gbcs_alerts_from_many_idle_devices_are_read_and_no_key_is_kept_for_them()
    {
        using var adapter = new GbcsReferenceAdapter(Acb, acbKey, wan);

        foreach (var device in Meters())
        {
            using var key = GbcsMacKey.Derive(wan.PrivateKeyOf(device), acbKey.PublicKey, Acb, device);
            var read = adapter.FromDevice(GbcsCodec.EncodeAlert(new GbcsHeader(5, device, Acb), PowerRestored, key), device);
            Assert.Equal(PowerRestored, Assert.IsType<DeviceMessage.Alert>(read).DeviceAlert);
        }

        Assert.Equal(0, adapter.KeysKept);
    }

    [Fact]
    public void Gbcs_key_of_a_device_sent_a_command_is_kept_until_released_and_reads_its_alerts_meanwhile()
    {
        using var adapter = new GbcsReferenceAdapter(Acb, acbKey, wan);
        var device = Meters().First();
        adapter.ToDevice(new DeviceOperation.ReadNetworkData(), device, 7);
        using var key = GbcsMacKey.Derive(wan.PrivateKeyOf(device), acbKey.PublicKey, Acb, device);

        Assert.IsType<DeviceMessage.Alert>(adapter.FromDevice(GbcsCodec.EncodeAlert(new GbcsHeader(5, device, Acb), PowerRestored, key), device));
        Assert.Equal(1, adapter.KeysKept);

        adapter.Release(device);
        Assert.Equal(0, adapter.KeysKept);
    }

    [Fact]
    public void Early_smart_alerts_from_many_idle_devices_are_translated_and_no_key_is_kept_for_them()
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        using var adapter = new EarlySmartReferenceAdapter(Acb, secret);

        foreach (var device in Meters())
        {
            var read = adapter.FromDevice(Encoding.UTF8.GetBytes(EarlySmartCodec.EncodeAlert(new EarlySmartHeader(5, device), PowerRestored)), device);
            var alert = Assert.IsType<DeviceMessage.Alert>(read);
            // Translated under the device's translation key (HMAC-SHA256 of its ID under the secret), as a user checks it.
            using var key = GbcsMacKey.FromBytes(HMACSHA256.HashData(secret, BitConverter.GetBytes(device.Value).Reverse().ToArray())[..GbcsMacKey.KeyLength]);
            Assert.True(GbcsCodec.DecodeAlert(alert.DuisPayload.Span, key).Succeeded);
        }

        Assert.Equal(0, adapter.KeysKept);
    }

    private static IEnumerable<Eui64> Meters() => Enumerable.Range(1, Devices).Select(i => new Eui64(0x00DB_1234_5600_0000UL + (ulong)i));

    /// <summary>The SM WAN's devices' key-agreement keys, made on first asking.</summary>
    private sealed class DeviceKeys : IDeviceKeyDirectory, IDisposable
    {
        private readonly Dictionary<Eui64, ECDiffieHellman> keys = [];

        public ECDiffieHellman PrivateKeyOf(Eui64 device)
        {
            if (!keys.TryGetValue(device, out var key))
            {
                keys[device] = key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
            }
            return key;
        }

        public ECDiffieHellmanPublicKey? FindKeyAgreementKey(Eui64 device) => PrivateKeyOf(device).PublicKey;

        public void Dispose()
        {
            foreach (var key in keys.Values)
            {
                key.Dispose();
            }
        }
    }
}
