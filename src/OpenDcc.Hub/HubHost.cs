using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodaTime;
using OpenDcc.Core;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.AccessControl;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Delivery;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;
using OpenDcc.Core.SmartGrid;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Wan;
using OpenDcc.Hub.Duis;
using OpenDcc.Hub.Grains;
using OpenDcc.Hub.Rest;
using OpenDcc.Hub.SmartGrid;
using OpenDcc.Hub.Wan;
using OpenDcc.Storage;

namespace OpenDcc.Hub;

/// <summary>How to start the hub.</summary>
/// <param name="Urls">Where Kestrel listens; DCC Boxed serves DUIS on port 8079.</param>
/// <param name="SiloPort">The Orleans silo-to-silo port (localhost clustering).</param>
/// <param name="GatewayPort">The Orleans client gateway port.</param>
public sealed record HubOptions(
    string DataDirectory,
    string? PostgresConnectionString = null,
    string Urls = HubOptions.DefaultUrls,
    int SiloPort = HubOptions.DefaultSiloPort,
    int GatewayPort = HubOptions.DefaultGatewayPort)
{
    public const string DefaultUrls = "http://127.0.0.1:8079";

    /// <summary>Orleans' own defaults for localhost clustering.</summary>
    public const int DefaultSiloPort = 11111, DefaultGatewayPort = 30000;

    public static readonly Duration DefaultMessageLogCheckpointInterval = Duration.FromMinutes(1);

    public GatewayResponseCodes ResponseCodes { get; init; } = GatewayResponseCodes.Default;

    public DeliveryOptions Delivery { get; init; } = DeliveryOptions.Default;

    /// <summary>Device models added to the store's approved list at start (while that list is empty, any model is accepted).</summary>
    public IReadOnlyList<ApprovedModel> ApprovedModels { get; init; } = [];

    /// <summary>The SMI statuses each SRV's device may have (E5 otherwise).</summary>
    public SmiStatusMatrix StatusMatrix { get; init; } = SmiStatusMatrix.Default;

    /// <summary>Deadlines and fan-out of the REST smart-grid reads.</summary>
    public SmartGridOptions SmartGrid { get; init; } = SmartGridOptions.Default;

    /// <summary>How many alerts of one code from one device are delivered per window; the rest are counted.</summary>
    public AlertThrottleOptions AlertThrottle { get; init; } = AlertThrottleOptions.Default;

    /// <summary>How often the message log's head is signed, when it has moved (<see cref="MessageLogCheckpoint"/>); and once as the hub stops.</summary>
    public Duration MessageLogCheckpointInterval { get; init; } = DefaultMessageLogCheckpointInterval;
}

/// <summary>
/// The OpenDcc hub: one ASP.NET Core process serving the DUIS gateway (DCC Boxed paths), the REST API (smart-grid
/// reads, its OpenAPI document at <c>/openapi/v1.json</c>) and <c>GET /health</c>,
/// co-hosting an Orleans silo that holds per-user state, and delivering asynchronous responses.
/// </summary>
public static class HubHost
{
    /// <summary>Why a hub stopped by itself because another hub took its store (<see cref="IHubLease.Lost"/>); null if it did not.</summary>
    public static string? LostStore(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Services.GetRequiredService<HubLeaseHolder>().Lease.Lost is { IsCompletedSuccessfully: true } lost ? lost.Result : null;
    }

    /// <summary>Opens the store (applying migrations) and builds the web application; the caller runs and disposes it.</summary>
    /// <param name="configureServices">Runs after the hub's own registrations, for a host that embeds the hub and
    /// replaces one of them (the device-path benchmark ends its measurement at <see cref="IDeviceResponseSink"/>).</param>
    public static async Task<WebApplication> BuildAsync(HubOptions options, IClock clock, DeviceSide devices, CancellationToken cancellationToken = default, Action<IServiceCollection>? configureServices = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(devices);
        var store = options.PostgresConnectionString is { } postgres
            ? await OpenDccStore.OpenPostgresAsync(postgres, clock, cancellationToken)
            : await OpenDccStore.OpenSqliteAsync(options.DataDirectory, clock, cancellationToken);
        IHubLease? lease = null;
        try
        {
            lease = await store.LeaseForHubAsync(cancellationToken);
            return await BuildAsync(options, clock, devices, store, new HubLeaseHolder(lease), configureServices, cancellationToken);
        }
        catch
        {
            if (lease is not null)
            {
                await lease.DisposeAsync();
            }
            await store.DisposeAsync();
            throw;
        }
    }

    private static async Task<WebApplication> BuildAsync(HubOptions options, IClock clock, DeviceSide devices, OpenDccStore store, HubLeaseHolder lease, Action<IServiceCollection>? configureServices, CancellationToken cancellationToken)
    {
        if (options.ApprovedModels.Count > 0)
        {
            await store.ApprovedModels.AddApprovedModelsAsync(options.ApprovedModels, cancellationToken);
        }
        // Read now, with the store leased and before the hub serves: every one was left by a hub that did not stop cleanly.
        var leftUnanswered = await store.UnansweredCommands.ListAsync(cancellationToken: cancellationToken);
        // Likewise every alert taken and not handed on.
        var leftPending = await store.AlertCounters.ListPendingAsync(cancellationToken);
        // Likewise every claim on an outbound message: its messages are sent now, not when the dead hub's leases end.
        var released = await store.Delivery.ReleaseClaimsAsync(cancellationToken);
        var keys = new FileKeyStore(Path.Combine(options.DataDirectory, "keys"));
        using (keys.LockForChange())
        {
            if (!keys.HasDspIdentity)
            {
                // A new installation signs with a fresh local identity ('opendcc keys import-dsp' replaces it), issued by
                // its local CA when it has one: a new CA would take the place of the one that issued its users' certificates.
                if (keys.HasLocalCa)
                {
                    using var ca = keys.LoadLocalCa();
                    keys.IssueDspIdentity(ca, Eui64Defaults.Dsp, clock);
                }
                else
                {
                    keys.Initialise(Eui64Defaults.Dsp, clock);
                }
            }
        }

        var builder = UnwatchedWebApplication.CreateBuilder();
        builder.WebHost.UseUrls(options.Urls);
        // What a client sent before it closed its connection is read as sent, not refused with the close (ReceivedBeforeClose).
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen => listen.Use(ReceivedBeforeClose.Wrap)));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // Orleans' start-up advice (server GC and the like) is noise for a co-hosted silo.
        builder.Logging.AddFilter("Orleans", LogLevel.Error);
        // A failing health check is /health's answer, which says why; logged too, it would be an error a poll, and the
        // store's refusals are logged already (StoreAwayWatch).
        builder.Logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None);
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(options.SiloPort, options.GatewayPort)
            .Configure<Orleans.Configuration.GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.FromMinutes(15))
            // The directory cache remembers where grains on other silos are (an LRU of up to a million entries by
            // default). In this one-silo cluster every grain is local, so it only ever held the addresses of grains
            // already collected: about 250 bytes for every device ever contacted, against the aim that an idle
            // device costs nothing (bench device-memory). A multi-silo cluster will want it back, sized.
            .Configure<Orleans.Configuration.GrainDirectoryOptions>(o => o.CachingStrategy = Orleans.Configuration.GrainDirectoryOptions.CachingStrategyType.None));

        var services = builder.Services;
        services.AddSingleton(clock);
        // Factory registrations, so the container disposes them when the hub stops.
        services.AddSingleton(_ => lease);
        services.AddSingleton(_ => store);
        // The gateway reads a user and a device on every request; a change the CLI makes reaches it within a second.
        services.AddSingleton<IPartyStore>(new CachingPartyStore(store.Parties, clock, CachingPartyStore.DefaultFreshness));
        services.AddSingleton(store.MessageLog);
        services.AddSingleton<IInventoryStore>(new CachingInventoryStore(store.Inventory, clock, CachingInventoryStore.DefaultFreshness));
        services.AddSingleton(store.Delivery);
        services.AddSingleton(store.ReplayCounters);
        services.AddSingleton(keys);
        services.AddSingleton(ServiceCatalogue.Duis);
        services.AddSingleton(sp => new MessageLogWriter(sp.GetRequiredService<IMessageLog>()));
        services.AddSingleton(sp => new DuisMessageSecurity(keys.LoadDspIdentity(), sp.GetRequiredService<IPartyStore>(), clock));
        services.AddSingleton<IReplayGuard, OrleansReplayGuard>();
        // No redirects, and at most options.Delivery.MaxConnectionsPerEndpoint POSTs at once to one user's endpoint.
        services.AddHttpClient(nameof(ResponseDispatcher)).ConfigurePrimaryHttpMessageHandler(() => ResponseDispatcher.CreateHandler(options.Delivery));
        services.AddSingleton(sp => new ResponseDispatcher(
            sp.GetRequiredService<IDeliveryStore>(),
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(ResponseDispatcher)),
            clock,
            options.Delivery,
            sp.GetRequiredService<MessageLogWriter>(),
            sp.GetRequiredService<ILogger<ResponseDispatcher>>()));
        // The first of the hub's services to start, so the last to stop: its last checkpoint signs what the others logged.
        services.AddSingleton(store.MessageLogCheckpoints);
        services.AddHostedService(sp => new MessageLogCheckpointService(
            store.MessageLog, sp.GetRequiredService<IMessageLogCheckpoints>(), keys, clock, options.MessageLogCheckpointInterval, sp.GetRequiredService<ILogger<MessageLogCheckpointService>>()));
        services.AddHostedService<HubLeaseWatch>();
        services.AddHostedService<DeliveryService>();
        services.AddSingleton(devices.Adapters);
        services.AddSingleton(devices.Wan);
        services.AddSingleton(devices.Options);
        services.AddSingleton(_ => new WanThrottle(devices.Options));
        services.AddSingleton<DeviceReadReturns>();
        services.AddSingleton<DeviceResponseSender>();
        services.AddSingleton<IDeviceResponseSink>(sp => sp.GetRequiredService<DeviceResponseSender>());
        services.AddSingleton(options.ResponseCodes);
        services.AddSingleton(sp => new CriticalCommands(sp.GetRequiredService<TranslationAdapters>(), sp.GetRequiredService<IPartyStore>(), clock, options.ResponseCodes));
        services.AddSingleton<AlertCounter>();
        services.AddSingleton(_ => new AlertThrottle(options.AlertThrottle, clock));
        services.AddSingleton<DccAlertSender>();
        services.AddSingleton<IDeviceStatusChangeSink>(sp => sp.GetRequiredService<DccAlertSender>());
        services.AddSingleton<IFirmwareDistributionSink>(sp => sp.GetRequiredService<DccAlertSender>());
        services.AddHostedService(sp => ActivatorUtilities.CreateInstance<UnansweredCommandRecovery>(sp, leftUnanswered));
        services.AddHostedService(sp => ActivatorUtilities.CreateInstance<PendingAlertRecovery>(sp, leftPending));
        services.AddSingleton<DeviceConfirmations>();
        services.AddSingleton(store.CriticalCounters);
        services.AddSingleton(store.AlertCounters);
        services.AddSingleton(_ => new AcbCounters(store.AcbCounters, clock));
        services.AddSingleton(store.LocalCommands);
        services.AddSingleton<IDeviceRequestHandler, DeviceCommandSubmitter>();
        services.AddSingleton<IDeviceReader, GrainDeviceReader>();
        services.AddSingleton(options.SmartGrid);
        services.AddSingleton(sp => new PowerQualitySurvey(sp.GetRequiredService<IDeviceReader>(), options.SmartGrid, options.StatusMatrix));
        services.AddSingleton(store.ApiKeys);
        services.AddOpenApi(o => o.DeclareApiKeys());
        // A number in the REST API is a JSON number, as the smart-grid endpoints read their bodies; so says the OpenAPI
        // document (the Web defaults would describe each as "an integer or a string").
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict);
        services.AddSingleton(devices.Registrations);
        services.AddSingleton<DeviceAlertReceiver>();
        services.AddSingleton<IDeviceAlertSink>(sp => sp.GetRequiredService<DeviceAlertReceiver>());
        services.AddSingleton(sp => new DuisGateway(
            sp.GetRequiredService<ServiceCatalogue>(),
            sp.GetRequiredService<IPartyStore>(),
            sp.GetRequiredService<IInventoryStore>(),
            sp.GetRequiredService<IReplayGuard>(),
            sp.GetRequiredService<IDeviceRequestHandler>(),
            sp.GetRequiredService<MessageLogWriter>(),
            sp.GetRequiredService<DuisMessageSecurity>(),
            clock,
            store.ApprovedModels,
            new LocalCommands(sp.GetRequiredService<ILocalCommandStore>(), sp.GetRequiredService<IInventoryStore>(), sp.GetRequiredService<TranslationAdapters>(), sp.GetRequiredService<DeviceConfirmations>(), clock, options.ResponseCodes),
            store.WanCoverage,
            options.ResponseCodes,
            options.StatusMatrix));
        services.AddSingleton<StoreAwayWatch>();
        services.AddHealthChecks().AddCheck<StoreHealthCheck>("store").AddCheck<WanHealthCheck>("wan");
        // Errors with no body of their own (an unknown path, a wrong method, a body too large, a fault in the hub) are
        // RFC 9457 problem documents too, as the endpoints' own refusals are.
        services.AddProblemDetails(problems => problems.CustomizeProblemDetails = context =>
        {
            var request = context.HttpContext.Request;
            // The refusals routing and the body readers make say only their status: say what is wrong.
            context.ProblemDetails.Detail ??= context.ProblemDetails.Status switch
            {
                StatusCodes.Status404NotFound => $"nothing is served at {request.Path}: DUIS is at /api/v1/serviceS, /api/v1/serviceT and /api/v1/serviceD, the REST API under /api/v1/smart-grid (described at /openapi/v1.json), health at /health",
                StatusCodes.Status405MethodNotAllowed => $"{request.Path} does not take {request.Method}",
                StatusCodes.Status413PayloadTooLarge => request.Path.StartsWithSegments("/api/v1/smart-grid", StringComparison.Ordinal)
                    ? "the body is larger than this endpoint takes"
                    : $"the body is over {Core.Security.DuisSignature.MaxMessageBytes:N0} bytes, the most a DUIS message may be (a firmware update with its image inline)",
                _ => null,
            };
            if (context.ProblemDetails.Status == StatusCodes.Status503ServiceUnavailable && CommitOutcomeUnknownException.In(context.Exception))
            {
                context.ProblemDetails.Title = "The store is unavailable";
                context.ProblemDetails.Detail = "OpenDcc's store went away as this request was being kept, and did not come back in time to say whether it was: " +
                    "it may be in the message log (with any inventory change it makes), or not. A device request's command was not sent either way " +
                    "(if the request was kept, it is answered E21 when the hub next starts). Its RequestID counter stays spent, so the same signed request " +
                    "is refused as a replay (E43): send it again with a new counter.";
                context.HttpContext.Response.Headers.RetryAfter = "30";
            }
            else if (context.ProblemDetails.Status == StatusCodes.Status503ServiceUnavailable && StoreAway.Is(context.Exception))
            {
                context.ProblemDetails.Title = "The store is unavailable";
                context.ProblemDetails.Detail = "OpenDcc's store cannot be reached or written just now, so this request was not carried out and nothing of it was kept. " +
                    "Send it again shortly, as it was: a DUIS request's RequestID counter was not spent " +
                    "(unless a later one of yours is accepted first: counters only rise, so then send it with a new one).";
                context.HttpContext.Response.Headers.RetryAfter = "5";
            }
            else if (context.Exception is InventoryChangedException changed)
            {
                context.ProblemDetails.Title = "Devices changed while this request was checked";
                context.ProblemDetails.Detail = $"While this request was checked, others changed a device it changes, each time it was tried (last: {changed.Message}). " +
                    "It was not carried out and nothing of it was kept. Send it again shortly, as it was: its RequestID counter was not spent " +
                    "(unless a later one of yours is accepted first: counters only rise, so then send it with a new one).";
                context.HttpContext.Response.Headers.RetryAfter = "1";
            }
        });
        configureServices?.Invoke(services);

        var app = builder.Build();
        if (released > 0)
        {
            app.Logger.LogWarning("Outbound messages a hub that stopped had claimed for delivery, due again now: {Count}; any it had already sent goes again (users tell a repeat by its ResponseID)", released);
        }
        // Created now, so that the container owns it and lets go of the store when the hub is disposed.
        app.Services.GetRequiredService<HubLeaseHolder>();
        devices.Wan.Attach(app.Services.GetRequiredService<IDeviceAlertSink>());
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // A body the client broke off, sent too slowly, garbled (chunking) or made too large is the client's fault
            // (400, 408, 413), not the hub's (500), and not worth an error in the hub's log.
            // A store that is away (PostgreSQL restarting, out of reach, a full disk) is 503 with Retry-After, logged as a
            // line at most every few seconds (StoreAwayWatch): the request was not carried out (nothing of it was stored),
            // and the hub is otherwise sound.
            // An inventory request whose devices others kept changing while it was checked (DuisGateway tries it a few
            // times) is 503 with Retry-After too, logged as a warning: nothing of it was stored, and the hub is sound.
            StatusCodeSelector = e => e switch
            {
                BadHttpRequestException bad => bad.StatusCode,
                InventoryChangedException => StatusCodes.Status503ServiceUnavailable,
                _ => StoreAway.Is(e) ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status500InternalServerError,
            },
            SuppressDiagnosticsCallback = c =>
            {
                if (StoreAway.Is(c.Exception))
                {
                    if (CommitOutcomeUnknownException.In(c.Exception))
                    {
                        // Rare (the store away for longer than the log waits to read its head) and worth an operator's look.
                        app.Logger.LogWarning("A request may or may not be in the message log: {Reason}; its counter stays spent, and the user is told to send it again with a new one", c.Exception.Message);
                    }
                    c.HttpContext.RequestServices.GetRequiredService<StoreAwayWatch>().Refused(c.Exception);
                    return true;
                }
                if (c.Exception is InventoryChangedException changed)
                {
                    app.Logger.LogWarning("An inventory request was refused (503): {Reason}, each time it was checked", changed.Message);
                    return true;
                }
                return c.Exception is BadHttpRequestException;
            },
        });
        app.UseStatusCodePages();
        // GET (and HEAD, as probes use) only: any other method gets 405, as on every other path.
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = WriteHealthAsync }).WithMetadata(new Microsoft.AspNetCore.Routing.HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head]));
        app.MapDuisEndpoints();
        app.MapSmartGridEndpoints();
        app.MapOpenApi();
        return app;
    }

    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(
                e => e.Key,
                e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }
}

/// <summary>Well-known EUI-64s.</summary>
public static class Eui64Defaults
{
    /// <summary>The DSP identity DCC Boxed uses (the ZAZ1 ACB/DSP EUI-64), so DCC tooling addresses OpenDcc unchanged.</summary>
    public static OpenDcc.Core.Identifiers.Eui64 Dsp { get; } = OpenDcc.Core.Identifiers.Eui64.Parse("90-B3-D5-1F-30-00-00-02");
}

/// <summary>Runs the response dispatcher for as long as the hub runs.</summary>
internal sealed class DeliveryService(ResponseDispatcher dispatcher) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => dispatcher.RunAsync(stoppingToken);
}

/// <summary>
/// Healthy when the store answers a query and no request was refused for the store's being away lately (a full disk
/// lets reads through and refuses every write); names the engine and where it is. Degraded, with why, while the hub's
/// lease on the store wavers (<see cref="IHubLease.Wavering"/>: its PostgreSQL session gone, the lock being taken
/// again or the old session not yet ended by the server): the hub still serves, but another hub could take the store.
/// </summary>
internal sealed class StoreHealthCheck(OpenDccStore store, IPartyStore parties, StoreAwayWatch watch, HubLeaseHolder lease) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await parties.FindUserAsync(default, cancellationToken);
            return watch.Lately() is { } refused ? HealthCheckResult.Unhealthy($"{store.Engine} {store.Location}: {refused}")
                : lease.Lease.Wavering is { } wavering ? HealthCheckResult.Degraded($"{store.Engine} {store.Location}: {wavering}")
                : HealthCheckResult.Healthy($"{store.Engine} {store.Location}");
        }
        catch (Exception e) when (e is System.Data.Common.DbException or IOException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"{store.Engine} {store.Location}: {e.Message}");
        }
    }
}

/// <summary>
/// Degraded while the hub does not reach a WAN in another process (<see cref="LoopbackWan"/>): the hub still takes
/// requests, but every command to a device is answered E20 until the WAN is back, which an operator watching /health
/// is told, with why. A WAN in this process is always reached.
/// </summary>
internal sealed class WanHealthCheck(IWanTransport wan) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(wan switch
        {
            LoopbackWan { IsConnected: true } loopback => HealthCheckResult.Healthy($"{loopback.Simulator}"),
            LoopbackWan loopback => HealthCheckResult.Degraded($"{loopback.Simulator}: {(loopback.Away is { } why ? $"away ({why})" : "not connected yet")}; commands to its devices are answered E20 until it is back"),
            _ => HealthCheckResult.Healthy("in process"),
        });
}

/// <summary>The hub's lease on its store (<see cref="OpenDccStore.LeaseForHubAsync"/>), in the container, which lets it go when the hub is disposed.</summary>
internal sealed class HubLeaseHolder(IHubLease lease) : IAsyncDisposable
{
    public IHubLease Lease => lease;

    public ValueTask DisposeAsync() => lease.DisposeAsync();
}

/// <summary>
/// Stops the hub if its lease on the store is lost (<see cref="IHubLease.Lost"/>: another hub holds the store now, and
/// two would each keep their own replay counters), and logs when the lease wavers and holds again.
/// </summary>
internal sealed class HubLeaseWatch(HubLeaseHolder holder, IHostApplicationLifetime lifetime, ILogger<HubLeaseWatch> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        holder.Lease.Notices = notice => logger.LogWarning("{Notice}", notice);
        try
        {
            var why = await holder.Lease.Lost.WaitAsync(stoppingToken);
            logger.LogCritical("this hub no longer holds its store ({Why}); stopping, so that two hubs do not serve from one store", why);
            lifetime.StopApplication();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            holder.Lease.Notices = null;
        }
    }
}

/// <summary>
/// The requests refused 503 because the store was away: one warning at most every interval (10 s unless told), counting
/// those refused since the last (a full disk refuses every request, and a line each would fill the disk that holds the
/// hub's log too), and what <see cref="StoreHealthCheck"/> reports for as long after the last.
/// </summary>
internal sealed partial class StoreAwayWatch(IClock clock, ILogger<StoreAwayWatch> logger, Duration? interval = null) : IDisposable
{
    public static readonly Duration DefaultInterval = Duration.FromSeconds(10);

    private readonly Duration interval = interval ?? DefaultInterval;
    private readonly LineThrottle lines = new(interval ?? DefaultInterval);
    private readonly Lock gate = new();
    private (Instant At, string Reason)? last;
    private Timer? flush;

    public void Refused(Exception fault)
    {
        var now = clock.GetCurrentInstant();
        lock (gate)
        {
            last = (now, fault.Message);
        }
        if (lines.Occurred(now, out var unsaid))
        {
            LogRefused(fault.Message, unsaid == 0 ? "" : $"; {unsaid} more refused so since the last such line");
        }
        else if (unsaid == 1 && lines.NextLineDue is { } due)
        {
            // Counted now, and said by the next line, or by the flush at the interval's end should none follow.
            lock (gate)
            {
                flush ??= new Timer(_ => Flush());
                flush.Change((due - now).ToTimeSpan(), Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void Flush()
    {
        var now = clock.GetCurrentInstant();
        (Instant At, string Reason)? lastRefused;
        lock (gate)
        {
            lastRefused = last;
        }
        if (lines.TakeUnsaid(now) is > 0 and var unsaid && lastRefused is { } l)
        {
            LogRefusedSince(unsaid, l.At, l.Reason);
        }
    }

    public void Dispose() => flush?.Dispose();

    /// <summary>Why a request was last refused, if within the interval; otherwise null.</summary>
    public string? Lately()
    {
        var now = clock.GetCurrentInstant();
        lock (gate)
        {
            return last is { } l && now - l.At < interval
                ? $"a request was refused {(long)(now - l.At).TotalSeconds} s ago, the store being away or unable to write: {l.Reason}"
                : null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Requests answered 503, not carried out: the store is away or cannot write ({Reason}){Meanwhile}")]
    private partial void LogRefused(string reason, string meanwhile);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} more requests answered 503 since the last such line, the last at {LastAt} ({Reason})")]
    private partial void LogRefusedSince(int count, Instant lastAt, string reason);
}
