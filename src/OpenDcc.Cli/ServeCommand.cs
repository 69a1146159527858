using System.CommandLine;
using OpenDcc.Hub;

namespace OpenDcc.Cli;

/// <summary><c>opendcc serve</c>: run the hub until stopped (Ctrl-C).</summary>
internal static class ServeCommand
{
    public static Command Create(CliContext context)
    {
        var urls = new Option<string>("--urls") { Description = $"Where to listen (default {HubOptions.DefaultUrls}, the DCC Boxed DUIS port)", DefaultValueFactory = _ => HubOptions.DefaultUrls };
        var serve = context.WithStoreOptions(new Command("serve", "Run the OpenDcc hub") { urls });
        serve.SetAction(async (parsed, ct) =>
        {
            var options = new HubOptions(context.DataDirectory(parsed), parsed.GetValue(context.Postgres) is { Length: > 0 } pg ? pg : null, parsed.GetRequiredValue(urls));
            await using var app = await HubHost.BuildAsync(options, context.Clock, ct);
            await app.StartAsync(ct);
            var store = app.Services.GetService(typeof(OpenDcc.Storage.OpenDccStore)) as OpenDcc.Storage.OpenDccStore;
            await context.Output.WriteLineAsync($"OpenDcc hub listening on {string.Join(", ", app.Urls)} (store: {store?.Engine} {store?.Location}); GET /health; Ctrl-C to stop");
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
            }
            await app.StopAsync(CancellationToken.None);
            await context.Output.WriteLineAsync("OpenDcc hub stopped");
            return 0;
        });
        return serve;
    }
}
