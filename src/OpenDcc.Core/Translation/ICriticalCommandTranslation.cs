using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Translation;

/// <summary>
/// The part of the translation SPI for critical commands (DUIS CV 4 Transform, then CV 5 Signed Pre-Command;
/// duis-and-dcc.md §1.4, §1.7). An adapter implements it when its devices check a Known Remote Party's signature on
/// critical commands; a critical SRV for a device whose adapter does not implement it is refused with
/// <see cref="DuisOperations.NotTranslated"/> (E11), at Transform already. The early-smart reference adapter does not
/// implement it: those meters have no cryptography and could not tell a supplier's command from anyone's.
/// </summary>
/// <remarks>Implementations must be thread-safe and must not throw on a user's bad bytes in <see cref="ReadSignedPreCommand"/>.</remarks>
public interface ICriticalCommandTranslation
{
    /// <summary>
    /// Transform: the command the device will execute, in its own wire format, without the access control broker's
    /// protection, for <paramref name="remoteParty"/> to sign.
    /// </summary>
    /// <param name="remoteParty">The Known Remote Party that will sign it (the DUIS originator).</param>
    /// <param name="counter">The remote party's originator counter for the device's replay check (the RequestID counter).</param>
    byte[] ToPreCommand(DeviceOperation operation, Eui64 device, Eui64 remoteParty, ulong counter);

    /// <summary>
    /// Reads a signed pre-command a user sent back: its structure, the operation, who it names as signer and target,
    /// and the signed bytes with the signature, so that the gateway can check them against the user's Digital Signing
    /// certificate. Null, with <paramref name="failure"/>, when the bytes are not a signed pre-command of this format.
    /// </summary>
    SignedPreCommand? ReadSignedPreCommand(ReadOnlySpan<byte> bytes, out string? failure);

    /// <summary>A signed pre-command (one <see cref="ReadSignedPreCommand"/> accepted), protected as the device expects (for GBCS, the ACB's MAC).</summary>
    byte[] ToDevice(ReadOnlySpan<byte> signedPreCommand, Eui64 device);

    /// <summary>
    /// A signed pre-command for local delivery (DUIS command variant 6): protected as <see cref="ToDevice"/> protects
    /// it, with no answer awaited for it over the WAN. Null (the default) when this adapter's devices take no commands
    /// delivered locally: the request gets E17.
    /// </summary>
    byte[]? ToLocalDelivery(ReadOnlySpan<byte> signedPreCommand, Eui64 device) => null;
}

/// <summary>A signed pre-command as its adapter read it.</summary>
/// <param name="RemoteParty">The signer the command names (GBCS: the originator system title).</param>
/// <param name="Device">The device the command names as its recipient.</param>
/// <param name="SignedContent">The bytes the signature covers.</param>
public sealed record SignedPreCommand(DeviceOperation Operation, Eui64 RemoteParty, Eui64 Device, ulong Counter, ReadOnlyMemory<byte> SignedContent, ReadOnlyMemory<byte> Signature);
