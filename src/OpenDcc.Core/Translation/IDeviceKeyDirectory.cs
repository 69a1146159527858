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
}
