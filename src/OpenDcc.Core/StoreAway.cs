using System.Data.Common;

namespace OpenDcc.Core;

/// <summary>
/// Whether a fault is a store's being away for now (PostgreSQL restarting, out of reach or not answering; a busy
/// database): a transient <see cref="DbException"/> or a timeout, itself or as the cause of another fault. What failed
/// on it can be tried again once the store is back; it is not a fault of the request.
/// </summary>
public static class StoreAway
{
    public static bool Is(Exception? fault) =>
        fault is DbException { IsTransient: true } or TimeoutException || (fault?.InnerException is { } cause && Is(cause));
}
