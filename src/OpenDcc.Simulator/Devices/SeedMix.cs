namespace OpenDcc.Simulator.Devices;

/// <summary>
/// SplitMix64's finaliser: a cheap, well-spread, platform-independent hash. Every "random" choice in the simulator
/// is this hash of the seed and the thing being chosen, so the same inputs always give the same answer.
/// </summary>
internal static class SeedMix
{
    public static ulong Mix(ulong x)
    {
        unchecked
        {
            x += 0x9E3779B97F4A7C15UL;
            x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
            x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
            return x ^ (x >> 31);
        }
    }

    public static ulong Mix(ulong a, ulong b) => Mix(a ^ Mix(b));

    public static ulong Mix(ulong a, ulong b, ulong c) => Mix(Mix(a, b), c);

    /// <summary>A value in [0, range) from a hash.</summary>
    public static int Below(ulong hash, int range) => (int)(hash % (ulong)range);
}
