/**
 * Words that say nothing about which part of a report is meant: English function words, question words and
 * chat filler ("tell me more about", "what does the report say"). Removing them keeps "the" from ranking.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  `a about above after again against all also am an and any are aren't as at be because been before being below
  between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each
  few for from further had hadn't has hasn't have haven't having he her here hers herself him himself his how i
  if in into is isn't it it's its itself just let's me more most mustn't my myself no nor not of off on once
  only or other ought our ours ourselves out over own same shan't she should shouldn't so some such than that
  that's the their theirs them themselves then there there's these they this those through to too under until
  up very was wasn't we were weren't what what's when where which while who whom why will with won't would
  wouldn't you your yours yourself yourselves
  please thanks thank tell explain describe show give say says said mean means know think want like get got
  anything something everything thing things much many really ok okay hi hello yes yeah
  report document doc section text summary summarize summarise`
    .split(/\s+/)
    .filter((w) => w !== ''),
);
