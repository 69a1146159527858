using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;
using OpenDcc.Core.Delivery;

namespace OpenDcc.Core.Tests.Delivery;

/// <summary>The retry schedule and retention of undelivered messages (DCC: at least one retry within 300 s, failed alerts held 2 days).</summary>
public class RetryPolicyTests
{
    private static readonly Instant Queued = Instant.FromUtc(2026, 11, 28, 12, 0);
    private static readonly RetryPolicy Default = new(DeliveryOptions.Default);

    private static Instant At(int seconds) => Queued + Duration.FromSeconds(seconds);

    [Fact]
    public void Failing_on_time_every_time_gives_retries_at_10_60_150_and_290_s_then_the_failed_queue()
    {
        Assert.Equal(At(10), Default.NextAttemptAfterFailure(Queued, 1, At(0)));
        Assert.Equal(At(60), Default.NextAttemptAfterFailure(Queued, 2, At(10)));
        Assert.Equal(At(150), Default.NextAttemptAfterFailure(Queued, 3, At(60)));
        Assert.Equal(At(290), Default.NextAttemptAfterFailure(Queued, 4, At(150)));
        Assert.Null(Default.NextAttemptAfterFailure(Queued, 5, At(290)));
        Assert.Equal(5, DeliveryOptions.Default.MaxAttempts);
    }

    [Fact]
    public void A_retry_whose_time_passed_during_a_slow_attempt_is_skipped_not_bunched()
    {
        // The first attempt timed out 15 s after queueing: the 10 s retry is gone, the next is at 60 s.
        Assert.Equal(At(60), Default.NextAttemptAfterFailure(Queued, 1, At(15)));
        Assert.Equal(At(290), Default.NextAttemptAfterFailure(Queued, 2, At(200)));
    }

    [Fact]
    public void A_failure_after_the_last_scheduled_retry_goes_to_the_failed_queue_whatever_the_attempt_count()
    {
        // A requeued message (or one first tried after a long outage of the hub) gets that one attempt.
        Assert.Null(Default.NextAttemptAfterFailure(Queued, 1, At(291)));
        Assert.Null(Default.NextAttemptAfterFailure(Queued, 6, Queued + Duration.FromDays(1)));
    }

    [Fact]
    public void The_attempt_count_ends_retries_even_while_the_window_is_open()
    {
        var policy = new RetryPolicy(DeliveryOptions.Default with { RetryAfter = [Duration.FromSeconds(5), Duration.FromSeconds(120)] });
        Assert.Equal(At(5), policy.NextAttemptAfterFailure(Queued, 1, At(0)));
        Assert.Equal(At(120), policy.NextAttemptAfterFailure(Queued, 2, At(5)));
        Assert.Null(policy.NextAttemptAfterFailure(Queued, 3, At(6)));
    }

    [Fact]
    public void No_retries_configured_means_one_attempt()
    {
        var policy = new RetryPolicy(DeliveryOptions.Default with { RetryAfter = [] });
        Assert.Null(policy.NextAttemptAfterFailure(Queued, 1, At(0)));
    }

    [Property]
    public Property Under_the_defaults_a_retry_is_always_later_than_the_failure_and_inside_the_300_s_window() =>
        Prop.ForAll(Gen.Choose(1, 6).ToArbitrary(), Gen.Choose(0, 400_000).ToArbitrary(), (attempts, failedAfterMs) =>
        {
            var failedAt = Queued + Duration.FromMilliseconds(failedAfterMs);
            var next = Default.NextAttemptAfterFailure(Queued, attempts, failedAt);
            return next is null || (next > failedAt && next < Queued + Duration.FromSeconds(300));
        });

    [Property]
    public Property Under_the_defaults_a_message_failing_at_once_every_time_is_retried_at_least_once_within_300_s() =>
        Prop.ForAll(Gen.Choose(0, 9_999).ToArbitrary(), firstFailureMs =>
        {
            // However long the first attempt took (below the 10 s request timeout), a retry follows inside the window.
            var next = Default.NextAttemptAfterFailure(Queued, 1, Queued + Duration.FromMilliseconds(firstFailureMs));
            return next is { } n && n <= Queued + Duration.FromSeconds(300);
        });

    [Fact]
    public void A_failed_message_expires_two_days_after_its_retry_window_and_a_delivered_one_an_hour_after_delivery()
    {
        var now = Queued + Duration.FromDays(3);
        Assert.Equal(now - Duration.FromDays(2) - Duration.FromSeconds(290), Default.FailedExpiryCutoff(now));
        Assert.Equal(Queued + Duration.FromSeconds(290) + Duration.FromDays(2), Default.FailedExpiry(Queued));
        Assert.Equal(now - Duration.FromHours(1), Default.DeliveredExpiryCutoff(now));
        var policy = new RetryPolicy(DeliveryOptions.Default with { FailedRetention = Duration.FromDays(7), RetryAfter = [Duration.FromSeconds(30)] });
        Assert.Equal(now - Duration.FromDays(7) - Duration.FromSeconds(30), policy.FailedExpiryCutoff(now));
        Assert.Equal(Queued + Duration.FromSeconds(30) + Duration.FromDays(7), policy.FailedExpiry(Queued));
        Assert.Equal(Queued + Duration.FromDays(2), new RetryPolicy(DeliveryOptions.Default with { RetryAfter = [] }).FailedExpiry(Queued));
    }

    [Fact]
    public void Retry_offsets_must_be_positive_and_ascending()
    {
        var descending = DeliveryOptions.Default with { RetryAfter = [Duration.FromSeconds(60), Duration.FromSeconds(10)] };
        Assert.Contains("ascending", Assert.Throws<ArgumentException>(() => new RetryPolicy(descending)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new RetryPolicy(DeliveryOptions.Default with { RetryAfter = [Duration.Zero] }));
    }

    [Fact]
    public void A_claim_lease_shorter_than_a_batch_of_timeouts_is_refused()
    {
        // 16 messages, 4 at a time, 10 s each when all time out: 40 s.
        var options = DeliveryOptions.Default with { ClaimBatchSize = 16, MaxConcurrentDeliveries = 4, ClaimLease = Duration.FromSeconds(40) };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal(nameof(DeliveryOptions.ClaimLease), error.ParamName);
        (options with { ClaimLease = Duration.FromSeconds(41) }).Validate();
    }

    [Fact]
    public void A_claim_lease_shorter_than_a_batch_waiting_for_one_endpoint_that_times_out_is_refused()
    {
        // 64 messages for one endpoint, 8 at a time: the last starts once the 8 in progress and the 56 ahead of it have
        // timed out, 8 at a time (8 × 10 s), then takes 10 s itself: 90 s.
        var options = DeliveryOptions.Default with { ClaimBatchSize = 64, MaxConnectionsPerEndpoint = 8, ClaimLease = Duration.FromSeconds(90) };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal(nameof(DeliveryOptions.ClaimLease), error.ParamName);
        Assert.Contains(nameof(DeliveryOptions.MaxConnectionsPerEndpoint), error.Message, StringComparison.Ordinal);
        (options with { ClaimLease = Duration.FromSeconds(91) }).Validate();
        // The defaults: 256 a claim, 32 at a time, 10 s each, (8 + 1) × 10 s = 90 s within the 2 minutes.
        DeliveryOptions.Default.Validate();
    }

    [Fact]
    public void Counts_and_durations_must_be_positive()
    {
        Assert.Throws<ArgumentException>((DeliveryOptions.Default with { MaxConcurrentDeliveries = 0 }).Validate);
        Assert.Throws<ArgumentException>((DeliveryOptions.Default with { ClaimBatchSize = 0 }).Validate);
        Assert.Equal(nameof(DeliveryOptions.MaxConnectionsPerEndpoint), Assert.Throws<ArgumentException>((DeliveryOptions.Default with { MaxConnectionsPerEndpoint = 0 }).Validate).ParamName);
        Assert.Throws<ArgumentException>((DeliveryOptions.Default with { RequestTimeout = Duration.Zero }).Validate);
        Assert.Throws<ArgumentException>((DeliveryOptions.Default with { FailedRetention = Duration.FromSeconds(-1) }).Validate);
        Assert.Throws<ArgumentException>((DeliveryOptions.Default with { PollInterval = Duration.Zero }).Validate);
        Assert.Throws<ArgumentException>((DeliveryOptions.Default with { UnreachableHoldOff = Duration.Zero }).Validate);
        Assert.Equal(nameof(DeliveryOptions.RedeliverAfter), Assert.Throws<ArgumentException>((DeliveryOptions.Default with { RedeliverAfter = Duration.Zero }).Validate).ParamName);
        DeliveryOptions.Default.Validate();
    }
}
