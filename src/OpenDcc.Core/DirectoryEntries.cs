using System.Runtime.InteropServices;

namespace OpenDcc.Core;

/// <summary>
/// Makes a directory's entries durable: a new file's data flushed to disk (<c>Flush(flushToDisk: true)</c>) can still
/// be lost in a crash with its name, until the directory holding it is flushed too (fsync(2) on Linux). What a command
/// removes from the store once a file holds it waits for both.
/// </summary>
public static class DirectoryEntries
{
    private const int ReadOnly = 0, Directory = 0x10000; // O_RDONLY, O_DIRECTORY (Linux)

    /// <exception cref="IOException">the directory cannot be opened or flushed, naming it and why.</exception>
    public static void Flush(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            // Elsewhere a file's flush is taken as enough (Windows flushes its directory entry with it).
            return;
        }
        var descriptor = Open(directory, ReadOnly | Directory);
        if (descriptor < 0)
        {
            throw new IOException($"{directory}: cannot open the directory to flush it ({Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())})");
        }
        try
        {
            if (Fsync(descriptor) != 0)
            {
                throw new IOException($"{directory}: cannot flush the directory to disk ({Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())})");
            }
        }
        finally
        {
            _ = Close(descriptor);
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Fsync(int descriptor);

    [DllImport("libc", EntryPoint = "close")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Close(int descriptor);
}
