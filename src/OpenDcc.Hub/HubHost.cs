using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using NodaTime;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;
using OpenDcc.Storage;

namespace OpenDcc.Hub;

/// <summary>How to start the hub.</summary>
/// <param name="Urls">Where Kestrel listens; DCC Boxed serves DUIS on port 8079.</param>
public sealed record HubOptions(string DataDirectory, string? PostgresConnectionString = null, string Urls = HubOptions.DefaultUrls)
{
    public const string DefaultUrls = "http://127.0.0.1:8079";
}

/// <summary>
/// The OpenDcc hub: one ASP.NET Core process serving the DCC user interfaces over the store.
/// At this stage it answers <c>GET /health</c>; the DUIS gateway, REST API and portal are added here.
/// </summary>
public static class HubHost
{
    /// <summary>Opens the store (applying migrations) and builds the web application; the caller runs and disposes it.</summary>
    public static async Task<WebApplication> BuildAsync(HubOptions options, IClock clock, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var store = options.PostgresConnectionString is { } postgres
            ? await OpenDccStore.OpenPostgresAsync(postgres, cancellationToken)
            : await OpenDccStore.OpenSqliteAsync(options.DataDirectory, cancellationToken);

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(options.Urls);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(clock);
        // A factory registration, so the container disposes the store when the hub stops.
        builder.Services.AddSingleton(_ => store);
        builder.Services.AddSingleton(store.Parties);
        builder.Services.AddSingleton(store.MessageLog);
        builder.Services.AddSingleton(new FileKeyStore(Path.Combine(options.DataDirectory, "keys")));
        builder.Services.AddHealthChecks().AddCheck<StoreHealthCheck>("store");

        var app = builder.Build();
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = WriteHealthAsync });
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

/// <summary>Healthy when the store answers a query; names the engine and where it is.</summary>
internal sealed class StoreHealthCheck(OpenDccStore store, IPartyStore parties) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await parties.FindUserAsync(default, cancellationToken);
            return HealthCheckResult.Healthy($"{store.Engine} {store.Location}");
        }
        catch (Exception e) when (e is System.Data.Common.DbException or IOException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"{store.Engine} {store.Location}: {e.Message}");
        }
    }
}
