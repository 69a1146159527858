using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace OpenDcc.Bench;

/// <summary>
/// One keep-alive HTTP/1.1 connection that POSTs prepared bodies and reads back Content-Length responses, one at a
/// time: a load generator as lean as wrk's, so that the two cores the hub runs on are not shared with
/// <see cref="HttpClient"/>'s own per-request work, which is the users' cost, not the hub's.
/// </summary>
internal sealed class LeanHttpClient : IAsyncDisposable
{
    private readonly Socket socket;
    private readonly NetworkStream stream;
    private readonly byte[] headerPrefix;
    private byte[] buffer = new byte[16 * 1024];

    // The request being sent: the header prefix stays in place, length and body are written after it per post.
    private byte[] request = [];
    private int start;
    private int end;

    private LeanHttpClient(Socket socket, string host, string path)
    {
        this.socket = socket;
        stream = new NetworkStream(socket, ownsSocket: false);
        headerPrefix = Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/xml\r\nContent-Length: ");
    }

    public static async Task<LeanHttpClient> ConnectAsync(IPEndPoint endpoint, string path)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endpoint);
        return new LeanHttpClient(socket, endpoint.ToString(), path);
    }

    /// <summary>Posts <paramref name="body"/>; returns the status code and the response body, which stays valid until the next post.</summary>
    public async Task<(int Status, ReadOnlyMemory<byte> Body)> PostAsync(byte[] body)
    {
        if (request.Length < headerPrefix.Length + 16 + body.Length)
        {
            request = new byte[headerPrefix.Length + 16 + body.Length];
            headerPrefix.CopyTo(request, 0);
        }
        body.Length.TryFormat(request.AsSpan(headerPrefix.Length), out var digits, default, System.Globalization.CultureInfo.InvariantCulture);
        "\r\n\r\n"u8.CopyTo(request.AsSpan(headerPrefix.Length + digits));
        var length = headerPrefix.Length + digits + 4;
        body.CopyTo(request, length);
        await stream.WriteAsync(request.AsMemory(0, length + body.Length));

        int headerEnd;
        while ((headerEnd = buffer.AsSpan(start, end - start).IndexOf("\r\n\r\n"u8)) < 0)
        {
            await FillAsync();
        }
        var status = ((buffer[start + 9] - '0') * 100) + ((buffer[start + 10] - '0') * 10) + (buffer[start + 11] - '0');
        var contentLength = ContentLength(buffer.AsSpan(start, headerEnd));
        start += headerEnd + 4;
        while (end - start < contentLength)
        {
            await FillAsync();
        }
        var responseBody = buffer.AsMemory(start, contentLength);
        start += contentLength;
        return (status, responseBody);
    }

    /// <summary>
    /// Posts each batch's bodies in order on its own connection (batch b on <paramref name="connections"/>[b]), batches in
    /// parallel, as each user's system would send its requests; a response <paramref name="expected"/> refuses (given
    /// its status and body) throws. Returns each request's latency in milliseconds, batch after batch.
    /// </summary>
    public static async Task<double[]> PostAllAsync(IReadOnlyList<LeanHttpClient> connections, IReadOnlyList<List<byte[]>> batches, Func<int, ReadOnlyMemory<byte>, bool> expected)
    {
        var offsets = new int[batches.Count + 1];
        for (var b = 0; b < batches.Count; b++)
        {
            offsets[b + 1] = offsets[b] + batches[b].Count;
        }
        var latencies = new double[offsets[^1]];
        await Task.WhenAll(batches.Select((batch, b) => Task.Run(async () =>
        {
            for (var i = 0; i < batch.Count; i++)
            {
                var started = Stopwatch.GetTimestamp();
                var (status, body) = await connections[b].PostAsync(batch[i]);
                if (!expected(status, body))
                {
                    throw new InvalidOperationException($"unexpected response: {status} {Encoding.UTF8.GetString(body.Span)}");
                }
                latencies[offsets[b] + i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
        })));
        return latencies;
    }

    public async ValueTask DisposeAsync()
    {
        await stream.DisposeAsync();
        socket.Dispose();
    }

    private async Task FillAsync()
    {
        if (start > 0)
        {
            Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
            end -= start;
            start = 0;
        }
        if (end == buffer.Length)
        {
            Array.Resize(ref buffer, buffer.Length * 2);
        }
        var read = await stream.ReadAsync(buffer.AsMemory(end));
        if (read == 0)
        {
            throw new IOException("the server closed the connection");
        }
        end += read;
    }

    private static int ContentLength(ReadOnlySpan<byte> head)
    {
        var at = head.IndexOf("\r\nContent-Length: "u8);
        if (at < 0)
        {
            throw new IOException($"the response has no Content-Length: {Encoding.ASCII.GetString(head)}");
        }
        var value = 0;
        for (var i = at + 18; i < head.Length && head[i] is >= (byte)'0' and <= (byte)'9'; i++)
        {
            value = (value * 10) + (head[i] - '0');
        }
        return value;
    }
}
