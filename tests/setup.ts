// A dynamic provider whose closure cannot be serialized fails inside a promise and its resource is silently
// never registered (see FACTS.md); make any such rejection fail the run instead.
process.on("unhandledRejection", (error) => {
    throw error;
});
