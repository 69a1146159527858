namespace OpenDcc.Hub.Tests;

public sealed class ResponseReceiverTests
{
    [Fact]
    public async Task A_receiver_that_keeps_receiving_keeps_only_the_newest_messages_and_gives_the_oldest_of_them_next()
    {
        await using var receiver = await ResponseReceiver.StartAsync();
        using var http = new HttpClient();
        var sent = ResponseReceiver.Kept + 10;
        for (var i = 0; i < sent; i++)
        {
            using var response = await http.PostAsync(receiver.Url, new StringContent($"message {i}"));
            response.EnsureSuccessStatusCode();
        }

        var kept = receiver.Received;
        Assert.Equal(ResponseReceiver.Kept, kept.Count);
        Assert.Equal("message 10", kept[0]);
        Assert.Equal($"message {sent - 1}", kept[^1]);
        // None was waited for: the next is the oldest of those kept, and the rest follow in order.
        for (var i = 10; i < sent; i++)
        {
            Assert.Equal($"message {i}", await receiver.NextAsync(TimeSpan.FromSeconds(5)));
        }
        await Assert.ThrowsAsync<TimeoutException>(() => receiver.NextAsync(TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task A_receiver_with_several_endpoints_takes_messages_at_each_on_a_port_of_its_own()
    {
        await using var receiver = await ResponseReceiver.StartAsync(endpoints: 3);
        using var http = new HttpClient();

        Assert.Equal(3, receiver.Urls.Select(u => u.Port).Distinct().Count());
        Assert.Equal(receiver.Urls[0], receiver.Url);
        foreach (var url in receiver.Urls)
        {
            using var response = await http.PostAsync(url, new StringContent($"to {url.Port}"));
            Assert.Equal(System.Net.HttpStatusCode.NoContent, response.StatusCode);
        }
        Assert.Equal(receiver.Urls.Select(u => $"to {u.Port}"), receiver.Received);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => ResponseReceiver.StartAsync(endpoints: 0));
    }
}
