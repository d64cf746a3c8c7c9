// The field app's inbox (待办) on a 360×800 phone: records returned with the supervisor's comment,
// inspection tasks, conflicts, rejected changes and remediation evidence.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { create, edit, creditCode } from './lib/api.js';
import { phone, fieldSignIn, tab, syncNow, localAll, PHOTOS } from './lib/field.js';
import { fieldWorld } from './lib/fieldworld.js';
import { drawDueYesterday } from './lib/server.js';

let srv, api, admin, surveyor, supervisor;
const { phoneTest, phoneWithOutfall, decide } =
  fieldWorld((w) => ({ srv, api, admin, surveyor, supervisor } = w));

phoneTest('a record the supervisor returned shows in the inbox with the comment; the correction goes back for review', async ({ page }) => {
  const id = await phoneWithOutfall(page, '待退回的排口');
  assert.match(await syncNow(page), /上次同步/);
  await decide('DECISION_KIND_RETURN', id, 1, '请补充责任主体名称和联系电话');
  assert.match(await syncNow(page), /上次同步/);
  assert.ok(Number(await page.textContent('#inbox-count')) >= 1, 'the to-do badge counts it');
  await tab(page, 'inbox');
  const item = page.locator(`#inbox-list li[data-kind="returned"][data-id="${id}"]`);
  assert.match(await item.textContent(), /退回修改[\s\S]*待退回的排口[\s\S]*请补充责任主体名称和联系电话/);
  await item.locator('a').click();
  await page.waitForSelector('#edit-form');
  assert.match(await page.textContent('#edit-form .comment'), /审核意见：\s*请补充责任主体名称和联系电话/);
  await page.fill('#party-name', '沁阳市某村委会');
  await page.fill('#party-phone', '0391-5551234');
  await page.click('#save-edit');
  await page.waitForSelector('#add-observation');
  const [edit] = (await localAll(page, surveyor.username, 'outbox')).filter((c) => c.state === 'queued');
  assert.deepEqual(edit.fields, { responsibleParty: { name: '沁阳市某村委会', phone: '0391-5551234' } }, 'only the changed fields');
  assert.equal(edit.base_version, 2);
  assert.match(await syncNow(page), /上次同步/);
  const o = await api.outfall(supervisor.token, id);
  assert.equal(o.reviewState, 'REVIEW_STATE_PENDING');
  assert.equal(o.responsibleParty.name, '沁阳市某村委会');
  await tab(page, 'inbox');
  assert.equal(await page.locator(`#inbox-list li[data-kind="returned"][data-id="${id}"]`).count(), 0, 'off the to-do list');
});

phoneTest('an inspection task assigned to this account is answered from the inbox, and a returned result is corrected in place', async ({ page }) => {
  // An approved outfall of 沁阳市, drawn for an inspector who covers the city.
  const inspector = await api.createUser(admin, 'sun.field', 'sun-field-password-1', 'ROLE_SURVEYOR', ['410800']);
  const dev = await api.enroll(supervisor.token, 'li-review-phone');
  const c = create({ name: '抽查的沁河排口', riverCode: 'qinhe', divisionCode: '410882', lat: 35.1203, lon: 112.9801, accuracyM: 5 });
  await api.sync(supervisor.token, dev, [c]);
  await decide('DECISION_KIND_APPROVE', c.entityId, 1);
  const drawId = randomUUID();
  const approved = await api.ok('GET', '/v1/outfalls?limit=1000&review_state=REVIEW_STATE_APPROVED', { token: supervisor.token });
  await api.ok('POST', '/v1/inspections/draws', { token: supervisor.token, body: {
    drawId, divisionCodes: ['410882'], sample: approved.outfalls.length, inspectors: [{ name: inspector.username, divisionCode: '410883' }] } });

  await fieldSignIn(page, srv.url, inspector);
  assert.match(await syncNow(page), /上次同步/);
  await tab(page, 'inbox');
  const item = page.locator(`#inbox-list li[data-kind="task"][data-id="${c.entityId}"]`);
  assert.match(await item.textContent(), /抽查任务[\s\S]*抽查的沁河排口[\s\S]*待检查/);
  await item.locator('a').click();
  await page.waitForSelector('#obs-form');
  assert.match(await page.textContent('#obs-form h2'), /双随机抽查/);
  await page.waitForSelector('#pos-chosen.ok');
  await page.click('#save-obs');
  assert.match(await page.textContent('#form-error'), /请先填写：抽查结论/);
  await page.selectOption('#inspection-result', 'INSPECTION_RESULT_ISSUES_FOUND');
  await page.fill('#o-notes', '排口周边有垃圾堆放');
  await page.click('#save-obs');
  await page.waitForSelector('#add-observation');
  assert.match(await syncNow(page), /上次同步/);
  let tasks = await api.ok('GET', '/v1/inspections/tasks', { token: inspector.token });
  let task = tasks.tasks.find((x) => x.outfallId === c.entityId);
  assert.equal(task.state, 'INSPECTION_TASK_STATE_SUBMITTED');
  const obs = await api.ok('GET', `/v1/observations/${task.observationId}`, { token: supervisor.token });
  assert.equal(obs.inspectionResult, 'INSPECTION_RESULT_ISSUES_FOUND');
  assert.equal(obs.inspectionDrawId, drawId);

  // The supervisor sends it back; the inspector corrects the same observation.
  await api.ok('POST', '/v1/review/decisions', { token: supervisor.token, body: {
    decisionId: randomUUID(), kind: 'DECISION_KIND_RETURN_INSPECTION', outfallId: c.entityId,
    observationId: task.observationId, baseVersion: String(obs.version), comment: '请补拍排口近景照片' } });
  assert.match(await syncNow(page), /上次同步/);
  await tab(page, 'inbox');
  assert.match(await item.textContent(), /结果被退回：请补拍排口近景照片/);
  await item.locator('a').click();
  await page.waitForSelector('#obs-form');
  await page.waitForSelector('#pos-chosen.ok');
  await page.selectOption('#inspection-result', 'INSPECTION_RESULT_ISSUES_FOUND');
  await page.setInputFiles('#photo-input', join(PHOTOS, 'qinhe-outfall-a-2.jpg'));
  await page.waitForSelector('#photo-list li');
  await page.click('#save-obs');
  await page.waitForSelector('#add-observation');
  assert.match(await syncNow(page), /上次同步/);
  tasks = await api.ok('GET', '/v1/inspections/tasks', { token: inspector.token });
  task = tasks.tasks.find((x) => x.outfallId === c.entityId);
  assert.equal(task.state, 'INSPECTION_TASK_STATE_SUBMITTED', JSON.stringify(task));
  const again = await api.ok('GET', `/v1/observations/${task.observationId}`, { token: supervisor.token });
  assert.equal(again.photos.length, 1);
  await tab(page, 'inbox');
  assert.equal(await item.count(), 0);
});

phoneTest('an edit clashing with another phone\'s shows as a conflict with both values, in the outbox and the inbox', async ({ page }) => {
  const other = await api.createUser(admin, 'zhou.field', 'zhou-field-password-1', 'ROLE_SURVEYOR', ['410882']);
  const dev = await api.enroll(other.token, 'zhou-phone-1');
  const c = create({ name: '两人同时修改的排口', riverCode: 'qinhe', divisionCode: '410882', lat: 35.1401, lon: 112.9902, accuracyM: 5, landmark: '老码头' });
  await api.sync(other.token, dev, [c]);
  await fieldSignIn(page, srv.url, surveyor);
  assert.match(await syncNow(page), /上次同步/);
  await page.goto(`${srv.url}/field/#edit/${c.entityId}`);
  await page.waitForSelector('#edit-form');
  await page.fill('#landmark', '新码头东侧');
  await page.click('#save-edit');
  await page.waitForSelector('#add-observation');
  // Meanwhile the other phone changed the same field to something else.
  await api.sync(other.token, dev, [edit(c.entityId, 1, { landmark: '老码头北侧' })]);
  assert.match(await syncNow(page), /上次同步/);
  const row = page.locator('#outbox-list li[data-state="conflict"]');
  assert.match(await row.textContent(), /修改排口：两人同时修改的排口[\s\S]*1 项与他人的修改冲突[\s\S]*受纳|地标|我的：新码头东侧；服务器：老码头北侧/);
  assert.match(await row.textContent(), /我的：新码头东侧；服务器：老码头北侧/);
  await tab(page, 'inbox');
  assert.equal(await page.locator(`#inbox-list li[data-kind="conflict"][data-id="${c.entityId}"]`).count(), 1);
});

phoneTest('a change the server rejects stays on the phone with its reason in Chinese and opens again for correction', async ({ page }) => {
  // A county inspector drawn to another county sees the task (the pick authorises them there),
  // but the draw's deadline passes before the phone syncs: the server refuses the result
  // (inspection_deadline_passed). The phone keeps it and says why, in the catalogue's Chinese.
  const inspector = await api.createUser(admin, 'zheng.field', 'zheng-field-password-1', 'ROLE_SURVEYOR', ['410883']);
  const dev = await api.enroll(supervisor.token, 'li-review-phone-2');
  const c = create({ name: '跨县抽查的排口', riverCode: 'danhe', divisionCode: '410882', lat: 35.1602, lon: 112.9001, accuracyM: 5 });
  await api.sync(supervisor.token, dev, [c]);
  await decide('DECISION_KIND_APPROVE', c.entityId, 1);
  const approved = await api.ok('GET', '/v1/outfalls?limit=1000&review_state=REVIEW_STATE_APPROVED', { token: supervisor.token });
  const drawId = randomUUID();
  await api.ok('POST', '/v1/inspections/draws', { token: supervisor.token, body: {
    drawId, divisionCodes: ['410882'], sample: approved.outfalls.length, inspectors: [{ name: inspector.username, divisionCode: '410883' }] } });
  await fieldSignIn(page, srv.url, inspector);
  assert.match(await syncNow(page), /上次同步/);
  await tab(page, 'inbox');
  await page.locator(`#inbox-list li[data-kind="task"][data-id="${c.entityId}"] a`).click();
  await page.waitForSelector('#obs-form');
  await page.waitForSelector('#pos-chosen.ok');
  await page.selectOption('#inspection-result', 'INSPECTION_RESULT_COMPLIANT');
  await page.fill('#o-notes', '现场无排放');
  await page.click('#save-obs');
  await page.waitForSelector('#add-observation');
  drawDueYesterday(srv, drawId);
  assert.match(await syncNow(page), /上次同步/);
  const row = page.locator('#outbox-list li[data-state="rejected"]');
  assert.match(await row.textContent(), /抽查结果：跨县抽查的排口[\s\S]*被拒绝：这次抽查已过截止日期，不再接收结果；该排口记为逾期未检查。（记录仍保存在手机上，可修改后重新提交）/);
  const kept = (await localAll(page, inspector.username, 'outbox')).find((x) => x.state === 'rejected');
  assert.equal(kept.result.reason, 'inspection_deadline_passed');
  await tab(page, 'inbox');
  assert.equal(await page.locator('#inbox-list li[data-kind="rejected"]').count(), 1);
  await tab(page, 'outbox');
  await page.click('#outbox-list li[data-state="rejected"] button.fix');
  await page.waitForSelector('#obs-form');
  assert.equal(await page.inputValue('#o-notes'), '现场无排放', 'the rejected change comes back to be corrected');
  assert.equal(await page.inputValue('#inspection-result'), 'INSPECTION_RESULT_COMPLIANT', 'as the task\'s result');
});

phoneTest('an outfall in remediation asks for its 整治完成 photos from the inbox', async ({ page }) => {
  const dev = await api.enroll(supervisor.token, 'li-review-phone-3');
  const c = create({ name: '整治中的排口', riverCode: 'weihe', divisionCode: '410882', lat: 35.1801, lon: 112.9301, accuracyM: 5 });
  await api.sync(supervisor.token, dev, [c]);
  let v = (await decide('DECISION_KIND_APPROVE', c.entityId, 1)).outfall.version;
  const step = async (body) => (await api.ok('POST', '/v1/programme/transitions', { token: supervisor.token, body: {
    transitionId: randomUUID(), outfallId: c.entityId, baseVersion: String(v), ...body } })).outfall.version;
  v = await step({ toStage: 'LIFECYCLE_STAGE_TRACED', partyBasis: 'PARTY_BASIS_TRACED', responsibleParty: { name: '沁阳某养殖场', creditCode: creditCode('91410882MA44XQ7J6') } });
  v = await step({ toStage: 'LIFECYCLE_STAGE_PLANNED', plan: { measure: 'REMEDIATION_MEASURE_BAN', deadline: '2027-06-30' } });
  await fieldSignIn(page, srv.url, surveyor);
  assert.match(await syncNow(page), /上次同步/);
  await tab(page, 'inbox');
  const item = page.locator(`#inbox-list li[data-kind="remediation"][data-id="${c.entityId}"]`);
  assert.match(await item.textContent(), /整治证据[\s\S]*整治中的排口[\s\S]*期限 2027-06-30/);
  await item.locator('a').click();
  await page.waitForSelector('#obs-form');
  assert.equal(await page.inputValue('#photo-kind'), 'PHOTO_KIND_REMEDIATION_DONE');
  await page.waitForSelector('#pos-chosen.ok');
  await page.click('#save-obs');
  assert.match(await page.textContent('#form-error'), /请至少拍一张“整治完成”照片/);
  await page.setInputFiles('#photo-input', join(PHOTOS, 'qinhe-outfall-a-2.jpg'));
  await page.waitForSelector('#photo-list li');
  await page.click('#save-obs');
  await page.waitForSelector('#add-observation');
  assert.match(await syncNow(page), /上次同步/);
  const feed = await api.ok('GET', '/v1/changes?since=0&limit=1000', { token: supervisor.token });
  const evidence = feed.feed.map((e) => e.observation).filter((o) => o && o.outfallId === c.entityId);
  assert.deepEqual(evidence.map((o) => o.photos.map((p) => p.kind)), [['PHOTO_KIND_REMEDIATION_DONE']]);
});
