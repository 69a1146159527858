using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using OpenDcc.Core.Wan;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// A WAN of a test's own over loopback (HTTP/2 on a free port), as <c>opendcc simulate</c> serves it: it takes the
/// ACB's key and lists <paramref name="fleet"/>; <paramref name="map"/> adds what else the test needs of it.
/// </summary>
internal static class FakeWan
{
    public static Task<WebApplication> StartAsync(string fleet, Action<WebApplication>? map = null) => StartAsync(() => fleet, map);

    /// <summary>A WAN whose listing is what <paramref name="fleet"/> gives at each connection (a WAN restarted with other keys).</summary>
    public static async Task<WebApplication> StartAsync(Func<string> fleet, Action<WebApplication>? map = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, endpoint => endpoint.Protocols = HttpProtocols.Http2));
        var app = builder.Build();
        app.MapPut(LoopbackWanProtocol.AcbPath, () => Results.NoContent());
        app.MapGet(LoopbackWanProtocol.FleetPath, () => Results.Text(fleet(), "application/json"));
        map?.Invoke(app);
        await app.StartAsync();
        return app;
    }
}
