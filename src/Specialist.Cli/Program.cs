using Specialist.Cli;

return await CliApp.RunAsync(args);
