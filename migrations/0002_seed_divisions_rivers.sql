-- The city's divisions (GB/T 2260, 焦作市 4108) and the main rivers of the plan's annex.

INSERT INTO divisions (code, name, parent_code, level) VALUES
  ('410800', '焦作市', NULL, 'city'),
  ('410802', '解放区', '410800', 'county'),
  ('410803', '中站区', '410800', 'county'),
  ('410804', '马村区', '410800', 'county'),
  ('410811', '山阳区', '410800', 'county'),
  ('410821', '修武县', '410800', 'county'),
  ('410822', '博爱县', '410800', 'county'),
  ('410823', '武陟县', '410800', 'county'),
  ('410825', '温县', '410800', 'county'),
  ('410882', '沁阳市', '410800', 'county'),
  ('410883', '孟州市', '410800', 'county'),
  -- 城乡一体化示范区 is a management zone with no GB/T 2260 code: a local code in the 9x range.
  ('410890', '城乡一体化示范区', '410800', 'county');

INSERT INTO basins (code, name) VALUES
  ('huanghe', '黄河流域'),
  ('haihe', '海河流域');

INSERT INTO rivers (code, name, basin_code) VALUES
  ('huanghe', '黄河', 'huanghe'),
  ('qinhe', '沁河', 'huanghe'),
  ('manghe', '蟒河', 'huanghe'),
  ('xinmanghe', '新蟒河', 'huanghe'),
  ('danhe', '丹河', 'huanghe'),
  ('jihe', '济河', 'huanghe'),
  ('tanqulaohe', '滩区涝河', 'huanghe'),
  ('weihe', '卫河', 'haihe'),
  ('gongchanzhuyiqu', '共产主义渠', 'haihe');
