using System.Diagnostics;

namespace OpenDcc.Bench;

internal static class Progress
{
    /// <summary>Waits until <paramref name="current"/> reaches <paramref name="target"/>, checking every millisecond.</summary>
    /// <param name="what">What is counted, for the error when it does not get there.</param>
    /// <returns>The count reached.</returns>
    /// <exception cref="TimeoutException">the count stayed short of the target for <paramref name="limit"/>.</exception>
    public static async Task<long> WaitForAsync(Func<Task<long>> current, long target, TimeSpan limit, string what)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var reached = await current();
            if (reached >= target)
            {
                return reached;
            }
            if (watch.Elapsed > limit)
            {
                throw new TimeoutException($"{what} stayed at {reached} for {limit.TotalSeconds:F0} s, waiting for {target}");
            }
            await Task.Delay(1);
        }
    }
}
