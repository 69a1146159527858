namespace OpenDcc.Bench;

internal static class Heap
{
    /// <summary>
    /// Collects the heap before a timed window, so that what is measured does not pay for garbage made outside it: a
    /// measurement alternated with it in the same process, or its own set-up.
    /// </summary>
    public static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
