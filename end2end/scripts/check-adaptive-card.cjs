// Checks an Adaptive Card the way Microsoft's own library reads it (the `adaptivecards`
// package Teams' renderers are built on): reads a Teams `message` from stdin, parses the
// card in its attachment and prints every parse or validation problem. Exit status 0 when
// there are none. Used by the Rust test `channels::a_teams_channel_gets_an_adaptive_card…`.
const AC = require('adaptivecards/dist/adaptivecards.js');

let input = '';
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  const problems = [];
  let message;
  try {
    message = JSON.parse(input);
  } catch (e) {
    console.log(`not JSON: ${e.message}`);
    process.exit(1);
  }
  const attachment = (message.attachments || [])[0] || {};
  if (message.type !== 'message') problems.push('the post is not a "message"');
  if (attachment.contentType !== 'application/vnd.microsoft.card.adaptive') {
    problems.push('the attachment is not an Adaptive Card');
  }
  const card = new AC.AdaptiveCard();
  const context = new AC.SerializationContext();
  card.parse(attachment.content || {}, context);
  for (let i = 0; i < context.eventCount; i++) {
    problems.push(`parse: ${context.getEventAt(i).message}`);
  }
  for (const e of card.validateProperties().validationEvents) {
    problems.push(`validate: ${e.message}`);
  }
  if (!card.version || card.version.toString() !== '1.4') problems.push(`version ${card.version}`);
  console.log(problems.join('\n'));
  process.exit(problems.length === 0 ? 0 : 1);
});
