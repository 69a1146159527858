using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace OpenDcc.Hub.Rest;

/// <summary>
/// Hands Kestrel what a client sent before it closed its connection ahead of the close itself. Kestrel's HTTP/1.1 body
/// reader refuses a read that finds the connection ended ("Unexpected end of request content") without the bytes that
/// came before the end, even a whole body: a request whose client sent it and went away before the hub read its body
/// would be in the message log without the body (<see cref="SmartGrid.SmartGridAudit"/>). A read that would show the
/// end with bytes its reader has not yet looked at shows the bytes alone; the end shows once they have been looked at.
/// </summary>
internal sealed class ReceivedBeforeClose(PipeReader connection) : PipeReader
{
    private ReadOnlySequence<byte> shown;
    private bool endHidden;
    private bool endDue;

    /// <summary>For <c>ListenOptions.Use</c>: every connection's input goes through one.</summary>
    public static ConnectionDelegate Wrap(ConnectionDelegate next) => context =>
    {
        context.Transport = new Duplex(new ReceivedBeforeClose(context.Transport.Input), context.Transport.Output);
        return next(context);
    };

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) =>
        Show(await connection.ReadAsync(cancellationToken));

    public override bool TryRead(out ReadResult result)
    {
        if (!connection.TryRead(out result))
        {
            return false;
        }
        result = Show(result);
        return true;
    }

    private ReadResult Show(ReadResult result)
    {
        shown = result.Buffer;
        endHidden = result.IsCompleted && !result.Buffer.IsEmpty && !endDue;
        return endHidden ? new ReadResult(result.Buffer, result.IsCanceled, isCompleted: false) : result;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        // Looked at up to the end it was shown: the next read would wait for more, and there is none to come.
        endDue |= endHidden && shown.Slice(examined).IsEmpty;
        shown = default;
        connection.AdvanceTo(consumed, examined);
    }

    public override void CancelPendingRead() => connection.CancelPendingRead();

    public override void Complete(Exception? exception = null) => connection.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => connection.CompleteAsync(exception);

    private sealed record Duplex(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}
