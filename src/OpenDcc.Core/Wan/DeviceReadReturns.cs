using System.Collections.Concurrent;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Wan;

/// <summary>
/// Where the answers to OpenDcc's own device reads come back. A command queued with <see cref="DeviceAnswerRoute.OpenDccRead"/>
/// is not signed and delivered when answered: <see cref="DeviceResponseSender"/> returns its answer
/// here, to whoever <see cref="Expect"/>s it; an answer nobody waits for any more (its reader gave up at a deadline)
/// is dropped. Holds one entry per read in flight and nothing after it.
/// </summary>
public sealed class DeviceReadReturns
{
    private readonly ConcurrentDictionary<RequestId, TaskCompletionSource<ReturnedAnswer>> waiting = new();

    /// <summary>How many reads are waiting for their answers.</summary>
    public int Waiting => waiting.Count;

    /// <summary>Waits for the answer to the command with this request ID; call before queueing the command.</summary>
    /// <exception cref="InvalidOperationException">an answer with that ID is already expected.</exception>
    public Task<ReturnedAnswer> Expect(RequestId id)
    {
        var answer = new TaskCompletionSource<ReturnedAnswer>(TaskCreationOptions.RunContinuationsAsynchronously);
        return waiting.TryAdd(id, answer) ? answer.Task : throw new InvalidOperationException($"an answer to {id} is already expected");
    }

    /// <summary>Stops waiting (the reader gave up): a later answer is dropped.</summary>
    public void Forget(RequestId id) => waiting.TryRemove(id, out _);

    /// <returns><c>false</c> when nobody waits for this answer.</returns>
    public bool Return(RequestId id, string responseCode, ResponsePayload payload) =>
        waiting.TryRemove(id, out var answer) && answer.TrySetResult(new ReturnedAnswer(responseCode, payload));
}

/// <summary>A device command's answer as the response sender got it: the DUIS response code and payload.</summary>
public sealed record ReturnedAnswer(string ResponseCode, ResponsePayload Payload);
