using OpenDcc.Core.Translation.Gbcs;

namespace OpenDcc.Core.Translation;

/// <summary>
/// A key to read one frame with: the one a reference adapter keeps for a device while commands go to it, or one derived
/// for this read alone (an alert from an idle device, an answer brought back, a payload read back), which disposing this
/// clears, since nothing would release a kept one. <see cref="Key"/> is null when there is none to be had.
/// </summary>
internal readonly record struct ReadingKey(GbcsMacKey? Key, bool Owned) : IDisposable
{
    /// <summary><paramref name="kept"/> when there is one; otherwise what <paramref name="derive"/> gives, owned by this read.</summary>
    public static ReadingKey KeptOr(GbcsMacKey? kept, Func<GbcsMacKey?> derive) =>
        kept is not null ? new ReadingKey(kept, Owned: false) : new ReadingKey(derive(), Owned: true);

    public void Dispose()
    {
        if (Owned)
        {
            Key?.Dispose();
        }
    }
}
