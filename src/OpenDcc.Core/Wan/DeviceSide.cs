using OpenDcc.Core.Translation;

namespace OpenDcc.Core.Wan;

/// <summary>The devices a hub reaches: the translation adapters and the SM WAN (a simulated fleet, or real head-ends).</summary>
public sealed record DeviceSide(TranslationAdapters Adapters, IWanTransport Wan)
{
    public WanOptions Options { get; init; } = WanOptions.Default;
}
