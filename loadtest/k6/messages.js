// The message generator: what a day of the original system's traffic looks like, more or less. Plain JavaScript
// with no k6 import, so that the k6 scenarios (lib.js, one stream per VU) and `npm run bench`'s body files (Node,
// src/bench/bodies.ts) send the same kind of messages.

/** A small seeded PRNG (mulberry32): a seed makes a run's messages reproducible. */
export function prng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `random` returns a number in [0, 1) (seeded by the caller, for reproducible runs); `spanishShare` is the share
 * of messages in Spanish (weather word and description).
 */
export function messageGenerator(random, spanishShare) {
  const chance = (share) => share > 0 && random() < share;
  const pick = (list) => list[Math.floor(random() * list.length)];

  function weighted(entries) {
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
    return () => {
      let r = random() * total;
      for (const [value, weight] of entries) {
        r -= weight;
        if (r < 0) return value;
      }
      return entries[entries.length - 1][0];
    };
  }

  // Where the traffic comes from: mostly Central America, as the original system's users, then the rest of the
  // Americas and Spain; spelled the way clients type them (codes, names, accents, lower case, stray spaces). The
  // edge normalises case and spaces, so 'perú' and 'PERÚ' are one counter.
  const country = weighted([
    ['GT', 24],
    ['Guatemala', 6],
    ['SV', 10],
    [' el salvador ', 2],
    ['HN', 8],
    ['MX', 10],
    ['México', 3],
    ['CR', 5],
    ['NI', 4],
    ['PA', 3],
    ['CO', 6],
    ['perú', 3],
    ['AR', 3],
    ['CL', 2],
    ['US', 6],
    ['ES', 4],
    ["Côte d'Ivoire", 1],
  ]);

  const weatherWords = {
    Sunny: { en: ['Sunny', 'sunny', 'SUNNY'], es: ['Soleado', 'soleado'] },
    Cloudy: { en: ['Cloudy', 'cloudy'], es: ['Nublado', 'nublado', 'Nubloso'] },
    Rainy: { en: ['Rainy', 'rainy'], es: ['Lluvioso', 'LLUVIOSO', 'lluvioso'] },
  };
  const weatherOf = weighted([
    ['Sunny', 40],
    ['Cloudy', 30],
    ['Rainy', 30],
  ]);
  const cities = [
    'Antigua',
    'Quetzaltenango',
    'Cobán',
    'San Salvador',
    'Tegucigalpa',
    'Ciudad de México',
    'Bogotá',
  ];
  const descriptions = {
    Sunny: {
      en: ['Clear skies over {city}', 'Sunny afternoon in {city}, {t}°C', 'Not a cloud in sight'],
      es: ['Hace mucho sol en {city}', 'Día despejado, {t}°C', '¡Qué calor hace hoy!'],
    },
    Cloudy: {
      en: ['Grey skies over {city}', 'Overcast all morning', 'Clouds rolling in, {t}°C'],
      es: ['Está nublado en {city}', 'Cielo gris toda la mañana', 'Muchas nubes, {t}°C'],
    },
    Rainy: {
      en: ['Heavy rain in {city}', 'Drizzle since noon', 'Storm coming, {t}°C'],
      es: ['Está lloviendo', 'Llueve a cántaros en {city}', 'Llovizna toda la tarde, {t}°C'],
    },
  };

  /** One realistic, valid message: weighted country, a weather word in English or Spanish, a fitting description. */
  function message() {
    const weather = weatherOf();
    const language = chance(spanishShare) ? 'es' : 'en';
    const description = pick(descriptions[weather][language])
      .replace('{city}', pick(cities))
      .replace('{t}', String(12 + Math.floor(random() * 22)));
    return { description, country: country(), weather: pick(weatherWords[weather][language]) };
  }

  /** An invalid message, one of the mistakes clients make: the edge must answer 400 and count nothing. */
  function invalidMessage() {
    const valid = message();
    return pick([
      { ...valid, weather: 'Snowy' },
      { ...valid, country: 'G7' },
      { ...valid, description: '' },
      { description: valid.description, weather: valid.weather },
    ]);
  }

  return { message, invalidMessage };
}
