// A dynamic provider whose closure cannot be serialized fails inside a promise and its resource is silently
// never registered (see the header of components/cluster/kindProvider.ts); make any such rejection fail the run.
process.on("unhandledRejection", (error) => {
    throw error;
});
