using OpenDcc.Core.Registration;
using OpenDcc.Core.Translation;

namespace OpenDcc.Core.Wan;

/// <summary>
/// The devices a hub reaches: the translation adapters and the SM WAN (a simulated fleet, or real head-ends), and
/// the registration data that says whom a device's alerts go to.
/// </summary>
public sealed record DeviceSide(TranslationAdapters Adapters, IWanTransport Wan, IRegistrationDataSource Registrations)
{
    public WanOptions Options { get; init; } = WanOptions.Default;
}
