namespace OpenDcc.Hub;

/// <summary>
/// One hub per data directory: a hub holds <see cref="FileName"/> in it open exclusively while it runs (on Linux an
/// advisory lock, which the operating system lets go when the process ends, however it ends). Two hubs on one
/// directory would be two separate Orleans silos, each with its own grain per DCC user, and so each with its own idea
/// of the user's last RequestID counter: a request accepted by one could be replayed to the other.
/// </summary>
internal sealed class DataDirectoryLock : IDisposable
{
    public const string FileName = "hub.lock";

    private readonly FileStream file;

    private DataDirectoryLock(FileStream file) => this.file = file;

    /// <exception cref="InvalidOperationException">another hub holds the directory.</exception>
    public static DataDirectoryLock Take(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, FileName);
        try
        {
            return new DataDirectoryLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException e)
        {
            throw new InvalidOperationException($"data directory {Path.GetFullPath(dataDirectory)} is in use by another hub (it holds {FileName}); one hub per data directory", e);
        }
    }

    public void Dispose() => file.Dispose();
}
