using System.Security.Cryptography;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Translation;

/// <summary>
/// Where the public key-agreement keys of devices come from (in GB, their SMKI device certificates, placed when the
/// device is pre-notified); the Access Control Broker derives its MAC key with each device from them.
/// </summary>
public interface IDeviceKeyDirectory
{
    /// <returns>The device's public ECDH P-256 key, or null when none is known.</returns>
    ECDiffieHellmanPublicKey? FindKeyAgreementKey(Eui64 device);

    /// <summary>
    /// A number that changes whenever the key <see cref="FindKeyAgreementKey"/> gives for the device does (a WAN
    /// restarted with other keys, a device re-keyed), so a MAC key derived from the old one is derived again; read
    /// before the key, and cheap (no allocation), as it is read for every frame. A directory whose keys never change
    /// for a device keeps the default.
    /// </summary>
    long KeyVersion(Eui64 device) => 0;
}
