using Uet.Cli;

return await UetApp.RunAsync(args, Console.Out, Console.Error);
