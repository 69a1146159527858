using Microsoft.AspNetCore.Builder;

namespace OpenDcc.Hub;

/// <summary>The hub's web hosts (the hub itself, the users' <see cref="ResponseReceiver"/>): slim, and watching no files.</summary>
internal static class UnwatchedWebApplication
{
    /// <summary>
    /// A slim builder that does not watch appsettings files for changes: they read none, and watching would mean a
    /// recursive inotify watch on the working directory, woken by every write of a store that lives under it (the
    /// gateway bench run from /tmp, its store under it, spent 1.8% of its CPU in the watcher of the receiver's host).
    /// </summary>
    public static WebApplicationBuilder CreateBuilder() =>
        WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
}
