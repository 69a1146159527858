using System.IO.Pipelines;
using System.Text;
using OpenDcc.Hub.Rest;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// A connection's input as Kestrel reads it through <see cref="ReceivedBeforeClose"/>: what the client sent before it
/// closed the connection first, then the close, once its reader has looked at all of that.
/// </summary>
public sealed class ReceivedBeforeCloseTests
{
    [Fact]
    public async Task What_came_before_the_close_is_read_without_it_until_looked_at_to_the_end()
    {
        var connection = new Pipe();
        await connection.Writer.WriteAsync(Encoding.ASCII.GetBytes("{\"gspGroup\""));
        await connection.Writer.CompleteAsync();
        var input = new ReceivedBeforeClose(connection.Reader);

        var first = await input.ReadAsync();
        Assert.Equal(("{\"gspGroup\"", false), (Encoding.ASCII.GetString(first.Buffer), first.IsCompleted));
        // Looked at in part: the rest again, still without the close.
        input.AdvanceTo(first.Buffer.GetPosition(1), first.Buffer.GetPosition(5));
        var second = await input.ReadAsync();
        Assert.Equal(("\"gspGroup\"", false), (Encoding.ASCII.GetString(second.Buffer), second.IsCompleted));
        input.AdvanceTo(second.Buffer.Start, second.Buffer.End);
        Assert.True(input.TryRead(out var third));
        Assert.Equal(("\"gspGroup\"", true), (Encoding.ASCII.GetString(third.Buffer), third.IsCompleted));
        input.AdvanceTo(third.Buffer.End);
        var last = await input.ReadAsync();
        Assert.Equal((0L, true), (last.Buffer.Length, last.IsCompleted));
    }

    [Fact]
    public async Task An_open_connection_and_one_closed_with_nothing_unread_read_as_they_are()
    {
        var connection = new Pipe();
        await connection.Writer.WriteAsync(Encoding.ASCII.GetBytes("GET /health"));
        var input = new ReceivedBeforeClose(connection.Reader);

        var open = await input.ReadAsync();
        Assert.Equal(("GET /health", false), (Encoding.ASCII.GetString(open.Buffer), open.IsCompleted));
        input.AdvanceTo(open.Buffer.End);
        await connection.Writer.CompleteAsync();
        var closed = await input.ReadAsync();
        Assert.Equal((0L, true), (closed.Buffer.Length, closed.IsCompleted));
    }
}
