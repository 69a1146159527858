using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Translation;

/// <summary>
/// The replay rule both wire formats share: per sender, a counter is accepted only if it is greater than the last
/// accepted one. Thread-safe; the check and the update are one step, so two racing copies of a frame cannot both pass.
/// </summary>
internal sealed class RisingCounterGuard
{
    private readonly Lock gate = new();
    private readonly Dictionary<Eui64, ulong> lastAccepted = [];

    public bool TryAccept(Eui64 sender, ulong counter)
    {
        lock (gate)
        {
            if (lastAccepted.TryGetValue(sender, out var last) && counter <= last)
            {
                return false;
            }
            lastAccepted[sender] = counter;
            return true;
        }
    }

    public ulong? LastAccepted(Eui64 sender)
    {
        lock (gate)
        {
            return lastAccepted.TryGetValue(sender, out var last) ? last : null;
        }
    }
}
