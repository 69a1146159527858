using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;

namespace OpenDcc.Simulator.Devices;

/// <summary>
/// How a fleet names its devices, so that a device id can be turned back into its site without a lookup table:
/// the top 24 bits are a prefix drawn from the fleet seed, the next 32 are the site number scrambled by a bijection
/// (multiply by an odd constant, xor a seeded mask), the low byte is the device's role on the site.
/// </summary>
internal sealed class SiteIdentities
{
    private const uint Multiplier = 0x9E3779B1u;
    private static readonly uint Inverse = InverseOf(Multiplier);

    private readonly ulong prefix;
    private readonly uint mask;

    public SiteIdentities(ulong fleetSeed)
    {
        prefix = SeedMix.Mix(fleetSeed, 0x1D) >> 40;
        mask = (uint)SeedMix.Mix(fleetSeed, 0x3A);
    }

    public static IReadOnlyList<DeviceType> SiteDeviceTypes { get; } =
        [DeviceType.ESME, DeviceType.GSME, DeviceType.CHF, DeviceType.GPF, DeviceType.PPMID];

    public Eui64 IdOf(int siteNumber, DeviceType type)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(siteNumber);
        var scrambled = unchecked(((uint)siteNumber * Multiplier) ^ mask);
        return new Eui64((prefix << 40) | ((ulong)scrambled << 8) | RoleOf(type));
    }

    public bool TryDecode(Eui64 id, out int siteNumber, out DeviceType type)
    {
        siteNumber = -1;
        type = default;
        var role = (int)(id.Value & 0xFF);
        if (id.Value >> 40 != prefix || role < 1 || role > SiteDeviceTypes.Count)
        {
            return false;
        }
        var number = unchecked(((uint)(id.Value >> 8) ^ mask) * Inverse);
        if (number > int.MaxValue)
        {
            return false;
        }
        siteNumber = (int)number;
        type = (DeviceType)(role - 1);
        return true;
    }

    private static ulong RoleOf(DeviceType type) =>
        type is DeviceType.ESME or DeviceType.GSME or DeviceType.CHF or DeviceType.GPF or DeviceType.PPMID
            ? (ulong)type + 1
            : throw new ArgumentOutOfRangeException(nameof(type), type, "a simulated site has no device of this type");

    // Newton's iteration for the inverse of an odd number modulo 2^32: each step doubles the correct low bits.
    private static uint InverseOf(uint odd)
    {
        var x = odd;
        for (var i = 0; i < 5; i++)
        {
            x = unchecked(x * (2 - (odd * x)));
        }
        return x;
    }
}
