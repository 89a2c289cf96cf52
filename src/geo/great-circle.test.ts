import { test } from 'node:test';
import assert from 'node:assert/strict';
import { greatCircleKm } from './great-circle.js';

const near = (actual: number, expected: number, tolerance: number): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} not within ${tolerance} of ${expected}`);

test('greatCircleKm matches known distances', () => {
  const london = { lat: 51.5074, lon: -0.1278 };
  const paris = { lat: 48.8566, lon: 2.3522 };
  const newYork = { lat: 40.7128, lon: -74.006 };
  const sydney = { lat: -33.8688, lon: 151.2093 };
  near(greatCircleKm(london, paris), 344, 3);
  near(greatCircleKm(london, newYork), 5570, 15);
  near(greatCircleKm(sydney, london), 16994, 30);
  assert.equal(greatCircleKm(london, london), 0);
  near(greatCircleKm(paris, london), greatCircleKm(london, paris), 1e-9);
  // Antipodes and the date line.
  near(greatCircleKm({ lat: 0, lon: 0 }, { lat: 0, lon: 180 }), Math.PI * 6371.0088, 1e-6);
  near(greatCircleKm({ lat: 0, lon: 179.5 }, { lat: 0, lon: -179.5 }), 111.2, 0.5);
});
