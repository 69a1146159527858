using System.Net;
using System.Net.Sockets;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// A TCP proxy on loopback that can be frozen: from then on it passes no byte either way and closes nothing, as a
/// process stopped with SIGSTOP (or a network that silently drops everything) looks to its peers.
/// </summary>
public sealed class FreezingProxy : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint target;
    private readonly CancellationTokenSource stopping = new();
    private readonly TaskCompletionSource frozen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task accepting;

    public FreezingProxy(Uri target)
    {
        ArgumentNullException.ThrowIfNull(target);
        this.target = new IPEndPoint(IPAddress.Loopback, target.Port);
        listener.Start();
        Url = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
        accepting = AcceptAsync();
    }

    public Uri Url { get; }

    /// <summary>No byte passes from now on, either way.</summary>
    public void Freeze() => frozen.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        listener.Stop();
        try
        {
            await accepting;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            var client = await listener.AcceptTcpClientAsync(stopping.Token);
            _ = PairAsync(client);
        }
    }

    private async Task PairAsync(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient())
        {
            try
            {
                if (frozen.Task.IsCompleted)
                {
                    // Frozen: the connection is taken and left to hang.
                    await Task.Delay(Timeout.Infinite, stopping.Token);
                }
                await server.ConnectAsync(target, stopping.Token);
                await Task.WhenAny(PumpAsync(client.GetStream(), server.GetStream()), PumpAsync(server.GetStream(), client.GetStream()));
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or IOException)
            {
            }
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var read = await from.ReadAsync(buffer, stopping.Token);
            if (read == 0)
            {
                return;
            }
            if (frozen.Task.IsCompleted)
            {
                await Task.Delay(Timeout.Infinite, stopping.Token);
            }
            await to.WriteAsync(buffer.AsMemory(0, read), stopping.Token);
        }
    }
}
