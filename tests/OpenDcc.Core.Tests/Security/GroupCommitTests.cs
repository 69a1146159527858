using OpenDcc.Core.Security;

namespace OpenDcc.Core.Tests.Security;

public sealed class GroupCommitTests
{
    [Fact]
    public async Task Items_submitted_while_a_flush_runs_are_written_together_by_the_next_flush_and_each_caller_gets_its_own_result()
    {
        using var held = new FirstFlushHeld();
        await using var commit = new GroupCommit<int, string>(held.Flush(i => $"wrote {i}"), "test writer");

        var (first, queued) = await held.QueueBehindTheFirstAsync(commit, 5);

        Assert.Equal("wrote 0", await first);
        Assert.Equal(["wrote 1", "wrote 2", "wrote 3", "wrote 4", "wrote 5"], await Task.WhenAll(queued));
        Assert.Equal([[0], [1, 2, 3, 4, 5]], held.Batches);
    }

    [Fact]
    public async Task Under_load_the_next_flush_waits_out_the_pacing_interval_and_writes_what_arrived_meanwhile_together()
    {
        using var held = new FirstFlushHeld();
        await using var commit = new GroupCommit<int, int>(held.Flush(i => i), "test writer", pacing: TimeSpan.FromSeconds(2));

        // Load: the second flush carries two items, so the writer paces the third.
        var first = commit.SubmitAsync(0);
        await held.Started();
        var second = new[] { commit.SubmitAsync(1), commit.SubmitAsync(2) };
        held.Release();
        await first;
        await Task.WhenAll(second);
        var third = new List<Task<int>>();
        for (var i = 3; i <= 5; i++)
        {
            third.Add(commit.SubmitAsync(i));
            await Task.Delay(20);
        }
        await Task.WhenAll(third);

        Assert.Equal([[0], [1, 2], [3, 4, 5]], held.Batches);
    }

    [Fact]
    public async Task An_idle_writer_is_not_paced_a_lone_item_is_written_at_once()
    {
        var flushes = 0;
        await using var commit = new GroupCommit<int, int>((items, _) =>
        {
            Interlocked.Increment(ref flushes);
            return Task.FromResult<IReadOnlyList<int>>([.. items]);
        }, "test writer", pacing: TimeSpan.FromMinutes(10));

        for (var i = 0; i < 3; i++)
        {
            var written = commit.SubmitAsync(i);
            // Each item alone in its flush: none waits for the ten-minute pacing.
            Assert.Same(written, await Task.WhenAny(written, Task.Delay(TimeSpan.FromSeconds(30))));
        }
        Assert.Equal(3, flushes);
    }

    [Fact]
    public async Task Flushes_run_on_the_writers_own_thread_so_a_commit_that_blocks_holds_no_thread_pool_thread()
    {
        var flushThreads = new List<(bool PoolThread, string? Name)>();
        await using var commit = new GroupCommit<int, int>((items, _) =>
        {
            flushThreads.Add((Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.Name));
            return Task.FromResult<IReadOnlyList<int>>([.. items]);
        }, "message log writer");

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => commit.SubmitAsync(i))));

        Assert.NotEmpty(flushThreads);
        Assert.All(flushThreads, t => Assert.Equal((false, "message log writer"), t));
    }

    [Fact]
    public async Task A_failed_flush_fails_every_caller_in_its_batch_and_the_writer_goes_on_with_the_next()
    {
        var calls = 0;
        await using var commit = new GroupCommit<int, int>((items, _) =>
            Interlocked.Increment(ref calls) == 1
                ? Task.FromException<IReadOnlyList<int>>(new IOException("disk full"))
                : Task.FromResult<IReadOnlyList<int>>([.. items.Select(i => i * 10)]), "test writer");

        var failed = await Assert.ThrowsAsync<IOException>(() => commit.SubmitAsync(1));
        Assert.Equal("disk full", failed.Message);
        Assert.Equal(20, await commit.SubmitAsync(2));
    }

    [Fact]
    public async Task A_batch_failed_by_one_items_own_fault_is_written_again_an_item_at_a_time_so_only_that_caller_fails()
    {
        using var held = new FirstFlushHeld();
        var batches = new List<int[]>();
        var flush = held.Flush(i => i * 10);
        await using var commit = new GroupCommit<int, int>(
            (items, ct) =>
            {
                batches.Add([.. items]);
                return items.Contains(3) ? Task.FromException<IReadOnlyList<int>>(new ArgumentException("item 3 is bad")) : flush(items, ct);
            },
            "test writer",
            isolate: fault => fault is ArgumentException);

        var (first, queued) = await held.QueueBehindTheFirstAsync(commit, 4);

        Assert.Equal(0, await first);
        Assert.Equal("item 3 is bad", (await Assert.ThrowsAsync<ArgumentException>(() => queued[2])).Message);
        Assert.Equal<int[]>([10, 20, 40], await Task.WhenAll(queued[0], queued[1], queued[3]));
        Assert.Equal([[0], [1, 2, 3, 4], [1], [2], [3], [4]], batches);
    }

    [Fact]
    public async Task A_batch_whose_flush_names_the_item_at_fault_fails_that_caller_and_writes_the_others_again_together()
    {
        using var held = new FirstFlushHeld();
        var batches = new List<int[]>();
        var flush = held.Flush(i => i * 10);
        await using var commit = new GroupCommit<int, int>(
            (items, ct) =>
            {
                batches.Add([.. items]);
                var bad = items.ToList().IndexOf(3);
                return bad >= 0 ? Task.FromException<IReadOnlyList<int>>(new GroupCommitItemFaultException(bad, new InvalidOperationException("item 3 changed"))) : flush(items, ct);
            },
            "test writer",
            isolate: fault => fault is ArgumentException);

        var (first, queued) = await held.QueueBehindTheFirstAsync(commit, 4);

        Assert.Equal(0, await first);
        Assert.Equal("item 3 changed", (await Assert.ThrowsAsync<InvalidOperationException>(() => queued[2])).Message);
        Assert.Equal<int[]>([10, 20, 40], await Task.WhenAll(queued[0], queued[1], queued[3]));
        Assert.Equal([[0], [1, 2, 3, 4], [1, 2, 4]], batches);
    }

    [Fact]
    public async Task A_batch_failed_by_a_fault_not_of_an_item_fails_every_caller_without_trying_each_alone()
    {
        using var held = new FirstFlushHeld();
        var batches = new List<int[]>();
        var flush = held.Flush(i => i);
        await using var commit = new GroupCommit<int, int>(
            (items, ct) =>
            {
                batches.Add([.. items]);
                return batches.Count == 2 ? Task.FromException<IReadOnlyList<int>>(new TimeoutException("store away")) : flush(items, ct);
            },
            "test writer",
            isolate: fault => fault is not TimeoutException);

        var (first, queued) = await held.QueueBehindTheFirstAsync(commit, 3);

        await first;
        foreach (var caller in queued)
        {
            await Assert.ThrowsAsync<TimeoutException>(() => caller);
        }
        Assert.Equal([[0], [1, 2, 3]], batches);
    }

    [Fact]
    public async Task Stopping_writes_what_was_submitted_first_and_refuses_what_comes_after()
    {
        var written = new List<int>();
        var commit = new GroupCommit<int, int>((items, _) =>
        {
            written.AddRange(items);
            return Task.FromResult<IReadOnlyList<int>>([.. items]);
        }, "test writer");
        var pending = Enumerable.Range(0, 100).Select(i => commit.SubmitAsync(i)).ToList();

        await commit.DisposeAsync();
        await commit.DisposeAsync();

        Assert.Equal(Enumerable.Range(0, 100), await Task.WhenAll(pending));
        Assert.Equal(Enumerable.Range(0, 100), written);
        var refused = Assert.Throws<InvalidOperationException>(() => { _ = commit.SubmitAsync(100); });
        Assert.Equal("the writer is stopped", refused.Message);
    }

    /// <summary>A flush that records each batch and holds the first until released, so that items queue behind it.</summary>
    private sealed class FirstFlushHeld : IDisposable
    {
        private readonly SemaphoreSlim started = new(0);
        private readonly SemaphoreSlim release = new(0);

        public List<int[]> Batches { get; } = [];

        public Func<IReadOnlyList<int>, CancellationToken, Task<IReadOnlyList<TResult>>> Flush<TResult>(Func<int, TResult> result) =>
            async (items, _) =>
            {
                Batches.Add([.. items]);
                if (Batches.Count == 1)
                {
                    started.Release();
                    await release.WaitAsync();
                }
                return [.. items.Select(result)];
            };

        /// <summary>Completes once the first flush has started (and is held).</summary>
        public Task Started() => started.WaitAsync();

        /// <summary>Submits 0 and, once its flush has started (held), 1 to <paramref name="count"/>, which queue behind it; then lets that flush go.</summary>
        public async Task<(Task<TResult> First, List<Task<TResult>> Queued)> QueueBehindTheFirstAsync<TResult>(GroupCommit<int, TResult> commit, int count)
        {
            var first = commit.SubmitAsync(0);
            await Started();
            var queued = Enumerable.Range(1, count).Select(i => commit.SubmitAsync(i)).ToList();
            Release();
            return (first, queued);
        }

        public void Release() => release.Release();

        public void Dispose()
        {
            started.Dispose();
            release.Dispose();
        }
    }
}
