using OpenDcc.Cli;

return await OpenDccCli.RunAsync(args, Console.Out, Console.Error);
