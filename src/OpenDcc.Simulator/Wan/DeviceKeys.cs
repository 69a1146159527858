using System.Buffers.Binary;
using System.Security.Cryptography;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Simulator.Wan;

/// <summary>
/// Simulated devices' ECDH P-256 key-agreement keys, derived from the fleet seed and the device's ID: a simulator
/// started again with the same seed has the same keys, as real devices keep theirs, so a hub that learnt them goes
/// on working. Simulated keys only: anyone who knows the seed knows them.
/// </summary>
internal static class DeviceKeys
{
    private static ReadOnlySpan<byte> Label => "OpenDcc simulated device key-agreement key v1"u8;

    public static ECDiffieHellman Derive(ulong fleetSeed, Eui64 device)
    {
        Span<byte> input = stackalloc byte[Label.Length + 20];
        Label.CopyTo(input);
        BinaryPrimitives.WriteUInt64BigEndian(input[Label.Length..], fleetSeed);
        BinaryPrimitives.WriteUInt64BigEndian(input[(Label.Length + 8)..], device.Value);
        // A private scalar must lie in [1, n−1]; a SHA-256 value misses that about once in 2^32 tries: try the next.
        for (uint attempt = 0; ; attempt++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(input[(Label.Length + 16)..], attempt);
            try
            {
                return ECDiffieHellman.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = SHA256.HashData(input) });
            }
            catch (CryptographicException) when (attempt < 16)
            {
            }
        }
    }
}
